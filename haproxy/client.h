// An async client of one HAProxy instance's runtime API (stats socket).
//
// Every call opens a fresh connection, sends one command line, reads the reply
// until HAProxy closes, and closes: a connection kept across a reload would
// stay attached to the old worker. Connect and reply each have a timeout, and
// every failure names the instance and its socket. Calls are coroutines that
// run on the caller's executor; a Client holds no I/O state and may be shared
// by any number of concurrent calls.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "haproxy/endpoint.h"
#include "haproxy/error.h"
#include "haproxy/info.h"
#include "haproxy/servers_state.h"
#include "haproxy/stat.h"

namespace caretaker::haproxy {

// Every co_await here follows the g++ 12 rule: src/base/async.h.
template <class T>
using Task = boost::asio::awaitable<T>;

// The admin states `set server B/S state ...` can set.
enum class AdminState { kReady, kDrain, kMaint };
const char* AdminStateName(AdminState state);  // "ready", "drain", "maint"

// `set server B/S weight N` (absolute, 0-256) or `weight N%` (of the initial
// weight; only dynamic balance algorithms honour other values than 0% / 100%).
struct Weight {
  int value = 0;
  bool percent = false;
  std::string ToString() const;  // "12" or "50%"
};

struct Instance {
  std::string name;  // "lb1"
  Endpoint endpoint;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds reply_timeout{5000};
};

class Client {
 public:
  explicit Client(Instance instance);

  const Instance& instance() const { return instance_; }
  const std::string& name() const { return instance_.name; }
  // "lb1 (unix:/run/haproxy/admin.sock)": how messages name this instance.
  const std::string& where() const { return where_; }

  // Sends one command line and returns the whole reply, uninterpreted.
  Task<Result<std::string>> Execute(std::string_view command) const;

  // All server rows of every backend (`show stat -1 4 -1`).
  Task<Result<std::vector<ServerStat>>> ShowStat() const;
  // The server rows of one backend, asked for by its numeric id (`show stat
  // ID 4 -1`, the be_id of `show servers state`): a few rows instead of a
  // whole fleet's dump. By id, not name: HAProxy looks a name up among every
  // proxy, so a frontend of the same name (common) would answer instead, and
  // an unknown name that starts with digits reads as an id. Rows of another
  // proxy (an id that changed under a reload) are dropped.
  Task<Result<std::vector<ServerStat>>> ShowBackendStat(int backend_id, std::string_view backend) const;
  // `show servers state [backend]`; an empty backend means all of them.
  Task<Result<std::vector<ServerState>>> ShowServersState(std::string_view backend) const;
  Task<Result<Info>> ShowInfo() const;
  // `show cli level`: "admin", "operator" or "user" — the socket's level;
  // state changes need "admin".
  Task<Result<std::string>> CliLevel() const;

  // State changes: success is HAProxy's empty reply; its error sentences
  // become typed errors (ClassifyReply). They do not confirm the new state:
  // the multi-instance operations in backend_view.h do.
  Task<Status> SetState(std::string_view backend, std::string_view server, AdminState state) const;
  Task<Status> SetWeight(std::string_view backend, std::string_view server, Weight weight) const;
  Task<Status> ShutdownSessions(std::string_view backend, std::string_view server) const;

 private:
  Task<Status> Change(std::string_view backend, std::string_view server, const std::string& command) const;
  Error Prefixed(Error error) const;

  Instance instance_;
  std::string where_;
};

// `show info` of every client, concurrently, in the order of `clients`.
Task<std::vector<Result<Info>>> ShowInfoAll(const std::vector<const Client*>& clients);

// The command lines the state changes send, e.g.
// "set server replicas/db1 state drain"; also used to name operations in reports.
std::string SetStateCommand(std::string_view backend, std::string_view server, AdminState state);
std::string SetWeightCommand(std::string_view backend, std::string_view server, Weight weight);
std::string ShutdownSessionsCommand(std::string_view backend, std::string_view server);

// True for names HAProxy accepts for proxies and servers ([A-Za-z0-9_.:-]+);
// anything else is refused before it is written into a command line.
bool IsValidName(std::string_view name);

}  // namespace caretaker::haproxy
