// A read load through the sandbox's HAProxy frontends, and what it saw: how
// the harness judges a rolling walk from the application's side. It knows
// nothing of caretaker: MySQL clients (Connector/C) and the HAProxy admin
// sockets only.
//
// Clients run `SELECT @@port` (the replica that answered) until Stop():
//   short   a new connection per query, alternating frontends, as a small web
//           application without a pool does. Every failure is an error.
//   pooled  one long-lived connection through one frontend, as common pools
//   sticky  keep theirs (HikariCP maxLifetime, Go's SetConnMaxLifetime): a
//           connection older than its max lifetime is closed and replaced
//           before the next query; a lost one (2013, 2006, killed) counts a
//           reconnect, is replaced and the query retried once; a failed retry
//           or connect is an error. pooled: a short lifetime (its connections
//           leave a draining server on their own); sticky: one hour (only
//           `shutdown sessions` moves them).
// Sockets are made close-on-exec once connected, but a process forked while
// a client connects inherits that socket: spawn processes that must not hold
// a session open (caretaker) with every fd above 2 closed (closefrom).
// A sampler reads `show stat` of every instance every sample_interval and
// records each server's status of backend `replicas`; a server is in service
// when its status starts with "UP" (DRAIN, MAINT, DOWN, NOLB are not).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/sandbox/sandbox.h"

namespace caretaker::sandbox {

struct LoadOptions {
  int short_clients = 2;
  int pooled_clients = 2;
  int sticky_clients = 2;
  std::chrono::milliseconds pause{10};  // between two queries of one client
  std::chrono::milliseconds pooled_lifetime{1000};
  std::chrono::milliseconds sticky_lifetime{std::chrono::hours(1)};
  std::chrono::milliseconds sample_interval{50};
};

enum class ClientKind { kShort = 0, kPooled = 1, kSticky = 2 };
const char* KindName(ClientKind kind);

using LoadClock = std::chrono::steady_clock;

// A pooled or sticky client found its connection lost and replaced it.
struct Reconnect {
  LoadClock::time_point at;  // when the loss was seen
  ClientKind kind;
  int client = 0;            // the client's number (0-based, across kinds)
  size_t instance = 0;       // the HAProxy instance whose frontend it uses
  uint16_t port = 0;         // the replica the lost connection was on
  std::string server;        // that replica's HAProxy server name ("db2")
  unsigned error_code = 0;   // mysql_errno of the lost query
  std::string error;
};

// One `show stat` of one instance: status of each server of `replicas`.
struct Sample {
  LoadClock::time_point at;  // when the reply was complete
  std::map<std::string, std::string> status;
  int in_service = 0;
};

struct KindCounts {
  long queries = 0;  // succeeded
  long errors = 0;
  long reconnects = 0;
  std::string first_error;
};

struct LoadReport {
  std::array<KindCounts, 3> kinds;  // indexed by ClientKind
  std::vector<ClientKind> clients;  // the kind of each client, by number
  std::vector<Reconnect> reconnects;
  std::vector<std::vector<Sample>> samples;  // per instance, in time order
  std::vector<std::string> instance_names;   // "lb1", "lb2"
  int members = 0;                           // servers of backend `replicas`
  long sampler_errors = 0;
  std::string first_sampler_error;
  LoadClock::time_point started, stopped;

  const KindCounts& Of(ClientKind kind) const { return kinds[static_cast<size_t>(kind)]; }
  // The fewest members in service on instance i over all samples (-1: none).
  int MinInService(size_t instance) const;
  // The latest sample of instance i taken before `at`, or nullptr.
  const Sample* SampleBefore(size_t instance, LoadClock::time_point at) const;
  // A few lines: queries, errors and reconnects per kind, minimum in service.
  std::string Summary() const;
};

class Load {
 public:
  // Starts every client and the sampler; throws if the sandbox has no HAProxy.
  static std::unique_ptr<Load> Start(const Sandbox& sb, const LoadOptions& options);
  ~Load();  // stops and joins, if Stop() was not called
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  // Stops every thread (within a query's timeout) and returns what they saw.
  LoadReport Stop();

 private:
  Load();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caretaker::sandbox
