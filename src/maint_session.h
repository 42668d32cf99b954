// Internal to `caretaker maint` (maint_start.cc, maint_stop.cc): one member,
// the HAProxy instances of its pool, its MySQL, the maintenance records, and
// the awaitable pieces both commands are made of. Runs on one event loop;
// MySQL calls go to a small thread pool. SIGINT/SIGTERM set interrupted() and
// wake any Sleep, so each command decides what an interruption means.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "haproxy/backend_view.h"
#include "mysql/pool.h"
#include "mysql/probe.h"
#include "src/fleet.h"
#include "src/maint_cmd.h"
#include "src/maint_record.h"
#include "src/maint_target.h"
#include "src/progress.h"

namespace caretaker::maint_detail {

template <class T>
using Task = boost::asio::awaitable<T>;

// Exit codes of the CLI (main.cc).
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRefused = 3;

// Why a command stops: its exit code and one message for stderr.
struct Stop {
  int exit_code = kExitFailed;
  std::string message;
};

class Session {
 public:
  Session(boost::asio::io_context& io, const Config& config, MemberRef ref, std::string password,
          MaintRecords& records, Progress& progress);

  const Config& config() const { return config_; }
  const PoolConfig& pool() const { return *ref_.pool; }
  const MemberConfig& member() const { return *ref_.member; }
  const MemberRef& ref() const { return ref_; }
  const std::string& server() const { return ref_.member->server; }
  MaintRecords& records() { return records_; }
  Progress& progress() { return progress_; }
  const std::vector<const haproxy::Client*>& clients() const { return clients_; }
  std::string InstanceNames() const;  // "lb1, lb2"
  bool interrupted() const { return interrupted_; }

  // Every instance answers at level admin; else a kExitUsage Stop naming the socket.
  Task<std::optional<Stop>> CheckAdminLevel();
  // The pool's backend on every instance. Stops (nothing changed) when an
  // instance cannot be read, the backend or the server is missing there.
  Task<Result<haproxy::BackendView>> ReadView();
  // The member's server in `view` (present: ReadView checked).
  const haproxy::MergedServer& ServerIn(const haproxy::BackendView& view) const;
  // Probes the member's MySQL / every member's MySQL (by server name).
  Task<mysql::Result<mysql::ReplicaStatus>> ProbeMember();
  Task<std::map<std::string, mysql::Result<mysql::ReplicaStatus>>> ProbeAll();
  // Runs `work` on the MySQL thread pool.
  template <class R>
  Task<R> Blocking(std::function<R()> work) {
    return mysql::RunBlocking<R>(pool_, std::move(work));
  }
  mysql::Target Target() const { return MemberTarget(config_, member(), password_); }
  std::optional<mysql::Target> Primary() const { return PrimaryTarget(config_, pool(), password_); }

  // Sets the member's state on every instance of the pool, confirmed.
  Task<haproxy::ApplyReport> SetState(haproxy::AdminState state);
  Task<haproxy::ApplyReport> SetWeight(haproxy::Weight weight);
  Task<haproxy::ApplyReport> ShutdownSessions();
  // Waits `d`, or less when interrupted.
  Task<void> Sleep(Millis d);

  // Writes the record (journal) before a side effect; a failure is a Stop.
  std::optional<Stop> Journal(const MaintRecord& record);

 private:
  const Config& config_;
  MemberRef ref_;
  std::string password_;
  MaintRecords& records_;
  Progress& progress_;
  Fleet fleet_;
  std::vector<const haproxy::Client*> clients_;
  mysql::BlockingPool pool_;
  mysql::RealReplicaProbe probe_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer timer_;
  bool interrupted_ = false;
};

// What maint start and stop share: finds HOST (exit 2 when it names no
// member, or several), checks its pool's policy when asked, reads the MySQL
// password, takes the member's lock (one maint command per member at a time:
// exit 3 when another holds it), opens the records, and runs the command `make` returns for a
// Session on a fresh event loop. Returns its exit code.
int RunOnMember(const Config& config, const std::string& host, const MaintIo& io, bool check_policy,
                const std::function<Task<int>(Session&)>& make);

}  // namespace caretaker::maint_detail
