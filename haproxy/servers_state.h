// Parser for `show servers state [backend]`: the admin state of servers.
//
// This is where the admin state is reliable: a drained server whose checks fail
// shows only "DOWN" in `show stat`, but keeps bit 0x08 here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "haproxy/error.h"

namespace caretaker::haproxy {

// srv_admin_state bits (HAProxy's SRV_ADMF_*).
inline constexpr uint32_t kAdminForcedMaint = 0x01;     // set server ... state maint
inline constexpr uint32_t kAdminInheritedMaint = 0x02;  // tracked server is in maint
inline constexpr uint32_t kAdminConfigMaint = 0x04;     // `disabled` in the config
inline constexpr uint32_t kAdminForcedDrain = 0x08;     // set server ... state drain
inline constexpr uint32_t kAdminInheritedDrain = 0x10;  // tracked server is drained
inline constexpr uint32_t kAdminResolvMaint = 0x20;     // DNS resolution failed
inline constexpr uint32_t kAdminMaintMask =
    kAdminForcedMaint | kAdminInheritedMaint | kAdminConfigMaint | kAdminResolvMaint;
inline constexpr uint32_t kAdminDrainMask = kAdminForcedDrain | kAdminInheritedDrain;

// srv_op_state values.
enum class OpState { kStopped = 0, kStarting = 1, kRunning = 2, kStopping = 3, kUnknown = -1 };

struct ServerState {
  int backend_id = 0;
  std::string backend;
  int server_id = 0;
  std::string server;
  std::string addr;  // srv_addr as HAProxy prints it: "-" while unresolved
  int port = 0;
  OpState op_state = OpState::kUnknown;
  uint32_t admin_state = 0;
  int uweight = 0;
  int iweight = 0;

  bool in_maint() const { return (admin_state & kAdminMaintMask) != 0; }
  bool in_drain() const { return (admin_state & kAdminDrainMask) != 0; }
};

// Parses a whole reply. Line 1 must be format version "1"; line 2 the "# "
// header; fields are looked up by header name. A header without rows (a
// backend without servers) is an empty list. HAProxy's answer to an unknown
// backend ("Can't find backend.") is kNoSuchBackend; anything else is kParse.
Result<std::vector<ServerState>> ParseServersState(std::string_view reply);

}  // namespace caretaker::haproxy
