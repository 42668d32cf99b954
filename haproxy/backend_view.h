// One backend as seen by every HAProxy instance that serves it.
//
// Reading: each instance is read concurrently (`show stat` for health and
// sessions, `show servers state` for the admin state, which `show stat` hides
// when a drained server is also down); the replies are merged per server, so a
// caller sees each server's state on every instance, whether the instances
// agree, and whether the server is out of traffic everywhere.
//
// Writing: an operation is sent to every instance concurrently and then
// confirmed by re-reading each one. The report says per instance what failed;
// a partial success is a failure (the caller decides whether to undo it).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "haproxy/client.h"

namespace caretaker::haproxy {

// What one instance returned, filtered to the backends asked for.
struct InstanceDump {
  std::string instance;
  std::optional<Error> error;  // set when the instance could not be read
  std::vector<ServerStat> stats;
  std::vector<ServerState> states;
};

// Reads every client concurrently; `backend` empty means every backend.
// Never fails as a whole: an instance that fails has its `error` set.
Task<std::vector<InstanceDump>> ReadInstances(const std::vector<const Client*>& clients,
                                              std::string_view backend = {});

// The admin state HAProxy holds for a server on one instance.
enum class Admin { kReady, kDrain, kMaint };
const char* AdminName(Admin admin);  // "READY", "DRAIN", "MAINT"
Admin AdminOf(const ServerState& state);  // maint wins over drain

// One server as one instance sees it.
struct ServerOnInstance {
  std::string instance;
  std::optional<Error> error;  // the instance could not be read
  bool present = false;        // the server exists in the backend there
  Admin admin = Admin::kReady;
  ServerStat stat;             // health, sessions, check (valid when present)
  ServerState state;           // admin bits, op state (valid when present)
};

struct MergedServer {
  std::string server;
  std::vector<ServerOnInstance> instances;  // in the order of the dumps
  // kReady/kDrain/kMaint when every instance read holds the same admin state.
  std::optional<Admin> admin;
  bool agree = false;      // every instance read and present, same admin state
  bool out_everywhere = false;  // drained or in maint on every instance (all read)
  bool up_everywhere = false;   // READY, UP (or no check), weight > 0 on every instance
  int64_t sessions = 0;    // scur summed over instances
};

// UP on every instance after a fresh passed check: leaving MAINT marks a
// server "UP 1/2" (health at `rise`, not yet full) before any check ran; one
// passed check makes it plain "UP".
bool CheckedUpEverywhere(const MergedServer& s);

// "lb1 DOWN READY (L4CON), lb2 UP READY": what each instance says of the server.
std::string HealthByInstance(const MergedServer& s);

struct BackendView {
  std::string backend;
  std::vector<MergedServer> servers;  // in the order of `order`, then unknown ones by name
  std::vector<std::string> unreachable;  // instances with an error
};

// Pure: merges the dumps for one backend. `order` lists server names to put
// first (the config's members); servers present on an instance but not in
// `order` follow, sorted by name. A name in `order` that no instance has is
// still listed (present = false everywhere).
BackendView MergeBackend(std::string_view backend, const std::vector<const InstanceDump*>& dumps,
                         const std::vector<std::string>& order);
BackendView MergeBackend(std::string_view backend, const std::vector<InstanceDump>& dumps,
                         const std::vector<std::string>& order);

// The dumps' rows by instance and backend, indexed in one pass: merging every
// backend of a large fleet (500 pools of `status`) then costs one pass over
// the rows, not one per backend. The dumps must outlive the index.
class DumpIndex {
 public:
  explicit DumpIndex(const std::vector<InstanceDump>& dumps);
  // Whether `dump` (one of the indexed dumps) lists a server of `backend`.
  bool Lists(const InstanceDump& dump, std::string_view backend) const;
  // MergeBackend over `dumps` (some of the indexed dumps), from the index.
  BackendView Merge(std::string_view backend, const std::vector<const InstanceDump*>& dumps,
                    const std::vector<std::string>& order) const;

  // One backend's rows of one dump, by server name.
  struct Rows {
    std::map<std::string_view, const ServerStat*> stats;
    std::map<std::string_view, const ServerState*> states;
  };

 private:
  std::map<std::pair<const InstanceDump*, std::string_view>, Rows> rows_;
};

// --- Apply-to-all operations ----------------------------------------------

// What an apply-to-all says about an instance that stopped answering, as it
// happens: the caller logs it (nothing in haproxy/ prints).
struct ApplyNote {
  enum class Kind {
    kStalled,   // a command or its confirmation got no answer: re-reading it
    kAnswered,  // it answers again (`message` says what it held)
    kGaveUp,    // it did not answer within the deadline: the outcome is the error
  };
  Kind kind = Kind::kStalled;
  std::string instance;
  std::string operation;
  std::chrono::milliseconds silent{0};  // how long it had not answered (kAnswered, kGaveUp)
  // "lb2 does not answer 'set server replicas/db1 state drain'; re-reading it for up to 30s",
  // "lb2 answers again after 3.1s; it had applied the drain".
  std::string message;
};
const char* ApplyNoteKindName(ApplyNote::Kind kind);  // "stalled", "answered", "gave_up"

// How an apply-to-all rides out an instance that stops answering for a while
// (a reload, a stopped or overloaded process). A command that got no answer
// may still take effect when the instance wakes, so rather than failing at
// once it keeps re-reading that instance (`show servers state B` every
// `reread_interval`, each read with the client's own timeouts) until it
// answers or `unresponsive_deadline` has passed since it stopped answering
// (a read already under way when it passes may still answer). Once it
// answers: confirmed when it holds what was asked, else the command is sent
// again (set state and set weight are idempotent) and confirmed. No answer
// means a timeout, a refused connection or one that broke (kTimeout,
// kConnect, kIo); any other error is the outcome at once.
struct ApplyOptions {
  std::chrono::milliseconds unresponsive_deadline{0};  // 0: the first non-answer is the outcome
  std::chrono::milliseconds reread_interval{250};
  // Called on the caller's executor as each note happens; may be empty.
  std::function<void(const ApplyNote&)> on_note;
};

struct InstanceOutcome {
  std::string instance;
  std::optional<Error> error;
};

// An outcome that is a timeout means "unknown", not "not applied": the command
// may have reached a hung instance that applies it when it wakes. Re-read
// before deciding what to undo.
struct ApplyReport {
  std::string operation;  // "set server replicas/db1 state drain"
  std::vector<InstanceOutcome> outcomes;
  // Instances that stopped answering (ApplyOptions): by instance, in order;
  // empty when every instance answered every time.
  std::vector<ApplyNote> notes;
  bool ok() const;
  // "" when ok, else one line per failed instance.
  std::string FailureSummary() const;
};

// Sets the state on every client and confirms it from `show servers state`
// (drain: bit 0x08 and no maint bit; maint: bit 0x01; ready: no maint or
// drain bit at all, inherited ones included). `options`: see ApplyOptions
// (by value: the coroutine keeps its own copy).
Task<ApplyReport> SetStateEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                     std::string_view server, AdminState state, ApplyOptions options = {});

// Sets the weight on every client and confirms srv_uweight (a percentage is
// of the initial weight, rounded down, as HAProxy computes it).
Task<ApplyReport> SetWeightEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                      std::string_view server, Weight weight, ApplyOptions options = {});

// Ends the server's sessions on every client and confirms scur reached 0
// within 1 s. Drain the server first: a READY one gets new sessions.
Task<ApplyReport> ShutdownSessionsEverywhere(const std::vector<const Client*>& clients,
                                             std::string_view backend, std::string_view server);

}  // namespace caretaker::haproxy
