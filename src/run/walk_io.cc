// The real WalkIo: HAProxy's runtime API on every instance of a pool,
// Connector/C on a small thread pool, the maintenance records file.
#include "src/run/walk_io.h"

#include <algorithm>
#include <map>
#include <optional>

#include "haproxy/backend_view.h"
#include "mysql/gtid.h"
#include "mysql/pool.h"
#include "mysql/probe.h"
#include "mysql/warmup.h"
#include "src/base/file_lock.h"
#include "src/base/log.h"
#include "src/run/fleet.h"
#include "src/run/maint_target.h"
#include "src/run/pool_probe.h"
#include "src/store/state_open.h"

namespace caretaker {
namespace {

namespace asio = boost::asio;


haproxy::AdminState AdminStateOf(LbState state) {
  switch (state) {
    case LbState::kReady: return haproxy::AdminState::kReady;
    case LbState::kDrain: return haproxy::AdminState::kDrain;
    case LbState::kMaint: return haproxy::AdminState::kMaint;
  }
  return haproxy::AdminState::kMaint;
}

class RealWalkIo : public WalkIo {
 public:
  RealWalkIo(const Config& config, std::string password, MaintRecords& records, WalkRecordInfo info)
      : config_(config),
        password_(std::move(password)),
        records_(records),
        info_(std::move(info)),
        fleet_(Fleet::FromConfig(config)),
        threads_(mysql::BlockingPool::kDefaultThreads),
        probe_(threads_) {}

  Awaitable<Result<PoolView>> Observe(const PoolConfig& pool, bool with_mysql) override;
  Awaitable<Result<void>> SetState(const PoolConfig& pool, const std::string& server, LbState state) override;
  Awaitable<Result<void>> SetWeight(const PoolConfig& pool, const std::string& server, int percent) override;
  Awaitable<Result<void>> ShutdownSessions(const PoolConfig& pool, const std::string& server) override;
  Awaitable<mysql::Result<mysql::ReplicaStatus>> Probe(const PoolConfig& pool, const MemberConfig& member) override;
  Awaitable<mysql::Result<bool>> WaitForPrimary(const PoolConfig& pool, const MemberConfig& member,
                                                SteadyTime deadline) override;
  Awaitable<mysql::Status> RunWarmupQueries(const PoolConfig& pool, const MemberConfig& member) override;
  Result<void> Journal(const PoolConfig& pool, const MemberConfig& member, const std::string& phase,
                       size_t step) override;
  Result<void> JournalAll(const PoolConfig& pool, const std::vector<JournalEntry>& entries) override;
  Result<void> Release(const PoolConfig& pool, const MemberConfig& member) override;
  void Cancel() override { cancelled_ = true; }
  void SetJob(const std::string& pool, int64_t job) override { info_.jobs[pool] = job; }

 private:
  Awaitable<Result<haproxy::BackendView>> ReadView(const PoolConfig& pool);
  // Success, or what failed on which instance (one clause each) and the
  // state every instance holds `server` in now, as a fresh read says.
  Awaitable<Result<void>> Reported(const PoolConfig& pool, const std::string& server,
                                   const haproxy::ApplyReport& report);
  // Each instance's process id, from its first `show info` of this walk:
  // tells a restarted instance apart from a change made to a running one.
  Awaitable<void> LearnInstances(const PoolConfig& pool);
  // Why `instances` hold `server` READY although this walk holds it out.
  Awaitable<std::string> WhyReady(const PoolConfig& pool, const std::string& server,
                                  const std::vector<std::string>& instances);
  template <class R>
  Awaitable<R> Blocking(std::function<R()> work) {
    return mysql::RunBlocking<R>(threads_, std::move(work));
  }
  bool MemberBusy(const PoolConfig& pool, const std::string& server) const;
  MaintRecord RecordFor(const PoolConfig& pool, const MemberConfig& member, const std::string& phase, size_t step);
  static std::string Key(const PoolConfig& pool, const std::string& server) { return pool.name + "/" + server; }

  const Config& config_;
  std::string password_;
  MaintRecords& records_;
  WalkRecordInfo info_;
  Fleet fleet_;
  mysql::BlockingPool threads_;
  mysql::RealReplicaProbe probe_;
  std::map<std::string, SysSeconds> mine_;  // records this walk wrote: key -> since
  std::map<std::string, MaintRecord> adopted_;  // records it took over (info_.adopt), as found
  // Instance name -> its HAProxy's pid when first read (nullopt: that read failed).
  std::map<std::string, std::optional<int64_t>> pids_;
  std::map<std::string, int64_t> member_pids_;  // "pool/server@instance" -> pid at its last lost MAINT
  bool cancelled_ = false;
};

Awaitable<Result<haproxy::BackendView>> RealWalkIo::ReadView(const PoolConfig& pool) {
  // Named: the coroutine keeps a reference to its arguments.
  std::vector<const haproxy::Client*> clients = fleet_.For(pool);
  auto op = haproxy::ReadInstances(clients, pool.backend);
  std::vector<haproxy::InstanceDump> dumps = co_await std::move(op);
  for (const haproxy::InstanceDump& d : dumps) {
    // An instance that cannot be read cannot be judged: nothing starts.
    if (d.error) co_return Error{d.error->message};
    bool has_backend = false;
    for (const haproxy::ServerState& s : d.states) has_backend = has_backend || s.backend == pool.backend;
    if (!has_backend) {
      co_return Error{"haproxy " + d.instance + " has no backend \"" + pool.backend + "\" (pool " + pool.name + " in " +
                      config_.path + ")"};
    }
  }
  std::vector<std::string> order;
  for (const MemberConfig& m : pool.members) order.push_back(m.server);
  haproxy::BackendView view = haproxy::MergeBackend(pool.backend, dumps, order);
  for (size_t i = 0; i < order.size(); ++i) {
    for (const haproxy::ServerOnInstance& on : view.servers[i].instances) {
      if (!on.present) {
        co_return Error{"haproxy " + on.instance + ": backend \"" + pool.backend + "\" has no server \"" + order[i] +
                        "\" (member of pool " + pool.name + " in " + config_.path + ")"};
      }
    }
  }
  co_return view;
}

Awaitable<void> RealWalkIo::LearnInstances(const PoolConfig& pool) {
  std::vector<const haproxy::Client*> unknown;
  for (const haproxy::Client* c : fleet_.For(pool)) {
    if (!pids_.count(c->name())) unknown.push_back(c);
  }
  if (unknown.empty()) co_return;
  // Once, concurrently: an instance that does not answer now is not asked
  // again at every read (each would wait out its reply timeout).
  auto op = haproxy::ShowInfoAll(unknown);
  std::vector<haproxy::Result<haproxy::Info>> infos = co_await std::move(op);
  for (size_t i = 0; i < unknown.size(); ++i) {
    pids_[unknown[i]->name()] = infos[i] ? std::optional<int64_t>(infos[i].value().pid) : std::nullopt;
  }
}

Awaitable<std::string> RealWalkIo::WhyReady(const PoolConfig& pool, const std::string& server,
                                            const std::vector<std::string>& instances) {
  std::string why;
  for (const haproxy::Client* c : fleet_.For(pool)) {
    if (std::find(instances.begin(), instances.end(), c->name()) == instances.end()) continue;
    auto op = c->ShowInfo();
    haproxy::Result<haproxy::Info> info = co_await std::move(op);
    std::string cause;
    if (!info) {
      cause = "(and its `show info` failed: " + info.error().message + ")";
    } else {
      const int64_t pid = info.value().pid;
      const std::string up = "up " + std::to_string(info.value().uptime_s) + "s";
      // Restarted since this member was held? Per member: one reload that
      // forgets two members is a restart for both. After an earlier loss of
      // its MAINT: the process it was set again under. Else: whether the
      // process is younger than the member's record (a reload before the
      // walk took it out is not the cause); else the pid first read.
      const std::string key = Key(pool, server) + "@" + c->name();
      std::optional<int64_t> before;
      std::optional<bool> restarted;
      if (auto it = member_pids_.find(key); it != member_pids_.end()) {
        before = it->second;
        restarted = *before != pid;
      } else {
        if (auto first = pids_.find(c->name()); first != pids_.end()) before = first->second;
        if (before) restarted = *before != pid;
        // Both in whole seconds: only a clear difference decides.
        if (auto held = mine_.find(Key(pool, server)); held != mine_.end()) {
          const int64_t held_s = (NowSeconds() - held->second).count(), up_s = info.value().uptime_s;
          if (up_s > held_s + 1) restarted = false;
          if (up_s + 1 < held_s) restarted = true;
        }
      }
      if (!restarted) {
        cause = "(pid " + std::to_string(pid) + ", " + up +
                "; whether that HAProxy restarted is not known: its first `show info` failed)";
      } else if (*restarted) {
        const std::string pids = before && *before != pid ? "pid " + std::to_string(*before) + " -> " : "pid ";
        cause = "after a restart of that HAProxy (" + pids + std::to_string(pid) + ", " + up +
                ": a reload that did not keep the server state)";
      } else {
        cause = "with no restart of that HAProxy (the same process, pid " + std::to_string(pid) + ", " + up +
                "): a person, an agent check or another tool set it";
      }
      member_pids_[key] = pid;
    }
    why += (why.empty() ? "" : "; ") + c->name() + " had " + server + " READY " + cause;
  }
  co_return why;
}

Awaitable<Result<void>> RealWalkIo::Reported(const PoolConfig& pool, const std::string& server,
                                            const haproxy::ApplyReport& report) {
  if (report.ok()) co_return boost::outcome_v2::success();
  std::string failed, static_on;
  for (const haproxy::InstanceOutcome& o : report.outcomes) {
    if (!o.error) continue;
    if (o.error->code == haproxy::ErrorCode::kStaticAlgorithm) {
      static_on += (static_on.empty() ? "" : ", ") + o.instance;
    } else {
      failed += (failed.empty() ? "" : "; ") + o.error->message;
    }
  }
  // The backend's configuration cannot do what the pool's asks: one sentence.
  ErrorKind code = static_on.empty() ? ErrorKind::kFailed : ErrorKind::kUsage;
  if (!static_on.empty()) {
    failed = "backend " + pool.backend + " uses a static balance algorithm: HAProxy accepts only 0% and 100% " +
             "weights there (refused on " + static_on + "), so pool " + pool.name + " cannot ramp; remove its " +
             "gates.weight_ramp (or use roundrobin, leastconn or hash-type consistent)" +
             (failed.empty() ? "" : "; " + failed);
  }
  std::vector<const haproxy::Client*> clients = fleet_.For(pool);
  auto read = haproxy::ReadInstances(clients, pool.backend);
  std::vector<haproxy::InstanceDump> dumps = co_await std::move(read);
  std::string now;
  for (const haproxy::InstanceDump& d : dumps) {
    std::string state = "cannot be read";
    if (!d.error) {
      state = "does not list it";
      for (const haproxy::ServerState& st : d.states) {
        if (st.backend == pool.backend && st.server == server) state = haproxy::AdminName(haproxy::AdminOf(st));
      }
    }
    now += (now.empty() ? "" : ", ") + d.instance + " " + state;
  }
  co_return Error{failed + " (now: " + now + ")", code};
}

// Whether a `caretaker maint` command holds the member's lock right now.
bool RealWalkIo::MemberBusy(const PoolConfig& pool, const std::string& server) const {
  return !FileLock::Acquire(LockPath(config_, "member-" + pool.name + "-" + server), Millis(0));
}

Awaitable<Result<PoolView>> RealWalkIo::Observe(const PoolConfig& pool, bool with_mysql) {
  // MySQL first (probes may take up to their timeouts), HAProxy last: the
  // capacity decision judges the freshest view of who is in traffic.
  MemberProbes probes;
  if (with_mysql) {
    auto all = ProbeMembers(probe_, config_, pool, password_);
    probes = co_await std::move(all);
  }
  auto learn = LearnInstances(pool);
  co_await std::move(learn);
  auto read = ReadView(pool);
  Result<haproxy::BackendView> view = co_await std::move(read);
  if (!view) co_return view.error();
  auto records = records_.List();
  if (!records) co_return records.error();
  policies::PoolSnapshot snapshot = BuildSnapshot(pool, view.value(), probes, records.value());
  PoolView out;
  for (size_t i = 0; i < pool.members.size(); ++i) {
    const haproxy::MergedServer& s = view.value().servers[i];  // MergeBackend lists `order` first
    MemberView m = MemberViewOf(s, snapshot.members[i].state);
    if (m.state == policies::Member::State::kUnreachable) m.mysql_error = probes.at(s.server).error().message;
    const auto job = info_.jobs.find(pool.name);
    bool mine = mine_.count(Key(pool, s.server)) > 0;
    std::string phase;  // of its record
    for (const MaintRecord& r : records.value()) {
      if (r.pool != pool.name || r.server != s.server) continue;
      phase = r.phase;
      // A record of this job (an earlier run of it, retried or resumed) is
      // its own; so is one it was asked to take over.
      const bool adopt = info_.adopt.count(Key(pool, s.server)) > 0;
      if ((job != info_.jobs.end() && r.job == job->second) || adopt) {
        if (adopt) adopted_.emplace(Key(pool, s.server), r);
        mine = true;
        mine_.emplace(Key(pool, s.server), r.since);
      }
      if (!mine) m.held_by = r.who + ": " + r.reason;
    }
    if (with_mysql && !mine && m.held_by.empty() && !info_.locked.count(Key(pool, s.server)) &&
        MemberBusy(pool, s.server)) {
      m.locked_by = "a caretaker maint command";
    }
    // Held in MAINT by this walk (its record says so) yet READY somewhere:
    // say why; the walker sets it back.
    const bool held = phase == "maint" || phase == "steps" || phase == "gates";
    if (mine && held && !m.ready_on.empty()) {
      auto why = WhyReady(pool, s.server, m.ready_on);
      m.ready_why = co_await std::move(why);
    }
    out.members.push_back(std::move(m));
  }
  co_return out;
}

Awaitable<Result<void>> RealWalkIo::SetState(const PoolConfig& pool, const std::string& server, LbState state) {
  std::vector<const haproxy::Client*> clients = fleet_.For(pool);
  // An instance that stops answering is re-read until it answers (or the
  // deadline passes). Nothing new starts meanwhile: this member's action is
  // still under way, and any read of the pool (ReadView) fails while an
  // instance cannot be read.
  haproxy::ApplyOptions options = ApplyOptionsFor(config_, pool, server, "roll");
  auto op = haproxy::SetStateEverywhere(clients, pool.backend, server, AdminStateOf(state), options);
  haproxy::ApplyReport report = co_await std::move(op);
  LogEvent(report.ok() ? LogLevel::kDebug : LogLevel::kError, "roll.set_state",
           {{"pool", pool.name}, {"server", server}, {"state", LbStateName(state)}, {"ok", report.ok()}});
  auto result = Reported(pool, server, report);
  co_return co_await std::move(result);
}

Awaitable<Result<void>> RealWalkIo::SetWeight(const PoolConfig& pool, const std::string& server, int percent) {
  std::vector<const haproxy::Client*> clients = fleet_.For(pool);
  haproxy::ApplyOptions options = ApplyOptionsFor(config_, pool, server, "roll");
  auto op = haproxy::SetWeightEverywhere(clients, pool.backend, server, haproxy::Weight{percent, true}, options);
  haproxy::ApplyReport report = co_await std::move(op);
  LogEvent(report.ok() ? LogLevel::kDebug : LogLevel::kError, "roll.set_weight",
           {{"pool", pool.name}, {"server", server}, {"percent", static_cast<int64_t>(percent)}, {"ok", report.ok()}});
  auto result = Reported(pool, server, report);
  co_return co_await std::move(result);
}

Awaitable<Result<void>> RealWalkIo::ShutdownSessions(const PoolConfig& pool, const std::string& server) {
  std::vector<const haproxy::Client*> clients = fleet_.For(pool);
  auto op = haproxy::ShutdownSessionsEverywhere(clients, pool.backend, server);
  haproxy::ApplyReport report = co_await std::move(op);
  LogEvent(report.ok() ? LogLevel::kDebug : LogLevel::kError, "roll.shutdown_sessions",
           {{"pool", pool.name}, {"server", server}, {"ok", report.ok()}});
  auto result = Reported(pool, server, report);
  co_return co_await std::move(result);
}

Awaitable<mysql::Result<mysql::ReplicaStatus>> RealWalkIo::Probe(const PoolConfig& pool, const MemberConfig& member) {
  auto op = probe_.Probe(MemberTarget(config_, member, password_), PoolProbeOptions(pool));
  mysql::Result<mysql::ReplicaStatus> status = co_await std::move(op);
  co_return status;
}

// The primary's position once, then waits for it in slices of at most 5 s
// (each under the read timeout) until `deadline`.
Awaitable<mysql::Result<bool>> RealWalkIo::WaitForPrimary(const PoolConfig& pool, const MemberConfig& member,
                                                          SteadyTime deadline) {
  std::optional<mysql::Target> primary = PrimaryTarget(config_, pool, password_);
  if (!primary) co_return mysql::Error{mysql::ErrorCode::kBadOption, 0, "pool " + pool.name + " has no [pools.primary]"};
  auto read = Blocking<mysql::Result<mysql::PrimaryPosition>>([p = *primary] { return mysql::ReadPrimaryPosition(p); });
  mysql::Result<mysql::PrimaryPosition> position = co_await std::move(read);
  if (!position) co_return position.error();
  mysql::Result<bool> reached = false;
  while (true) {
    if (cancelled_) co_return mysql::Error{mysql::ErrorCode::kQuery, 0, "the GTID wait was cancelled (aborted)"};
    // Rounded up: truncated, 0.9 ms left reads as none and the wait ends
    // before its deadline ("gave up after 1.999s" of a 2s timeout).
    Millis left = std::chrono::ceil<Millis>(deadline - std::chrono::steady_clock::now());
    if (left <= Millis(0)) break;
    Millis slice = std::min<Millis>(left, std::chrono::seconds(5));
    auto wait = Blocking<mysql::Result<bool>>(
        [replica = MemberTarget(config_, member, password_), p = *primary, pos = position.value(), slice] {
          return mysql::WaitForPosition(replica, p, pos, slice);
        });
    reached = co_await std::move(wait);
    if (!reached || reached.value()) break;
  }
  co_return reached;
}

Awaitable<mysql::Status> RealWalkIo::RunWarmupQueries(const PoolConfig& pool, const MemberConfig& member) {
  auto run = Blocking<mysql::Status>([target = MemberTarget(config_, member, password_),
                                      queries = pool.gates.warmup_queries] {
    return mysql::RunWarmupQueries(target, queries);
  });
  mysql::Status ran = co_await std::move(run);
  co_return ran;
}

MaintRecord RealWalkIo::RecordFor(const PoolConfig& pool, const MemberConfig& member, const std::string& phase,
                                  size_t step) {
  const std::string key = Key(pool, member.server);
  if (info_.adopt.count(key) && !adopted_.count(key)) {
    auto found = records_.Find(pool.name, member.server);
    if (found && found.value()) adopted_.emplace(key, *found.value());
  }
  if (auto it = adopted_.find(key); it != adopted_.end()) {
    MaintRecord r = it->second;
    r.phase = phase;
    r.step = step;
    return r;
  }
  auto since = mine_.find(key);
  if (since == mine_.end()) since = mine_.emplace(key, NowSeconds()).first;
  MaintRecord r;
  r.pool = pool.name;
  r.server = member.server;
  r.host = member.host + ":" + std::to_string(member.port);
  r.who = info_.who;
  r.reason = info_.reason;
  r.since = since->second;
  r.phase = phase;
  r.step = step;
  r.until = info_.until;
  if (auto job = info_.jobs.find(pool.name); job != info_.jobs.end()) r.job = job->second;
  return r;
}

Result<void> RealWalkIo::Journal(const PoolConfig& pool, const MemberConfig& member, const std::string& phase,
                                 size_t step) {
  return JournalAll(pool, {{&member, phase, step}});
}

Result<void> RealWalkIo::JournalAll(const PoolConfig& pool, const std::vector<JournalEntry>& entries) {
  std::vector<MaintRecord> records;
  for (const JournalEntry& e : entries) records.push_back(RecordFor(pool, *e.member, e.phase, e.step));
  auto put = records_.PutAll(records);
  for (const JournalEntry& e : entries) {
    LogEvent(put ? LogLevel::kDebug : LogLevel::kError, "roll.journal",
             {{"pool", pool.name}, {"server", e.member->server}, {"phase", e.phase}, {"ok", bool(put)}});
  }
  if (!put) return Error{"cannot write the maintenance record: " + put.error().message};
  return boost::outcome_v2::success();
}

Result<void> RealWalkIo::Release(const PoolConfig& pool, const MemberConfig& member) {
  auto removed = records_.Remove(pool.name, member.server);
  if (!removed) return Error{removed.error().message};
  return boost::outcome_v2::success();
}

}  // namespace

MemberView MemberViewOf(const haproxy::MergedServer& s, policies::Member::State state) {
  MemberView m;
  m.server = s.server;
  m.state = state;
  m.sessions = s.sessions;
  m.out_everywhere = s.out_everywhere;
  m.ready_everywhere = s.agree && s.admin == haproxy::Admin::kReady;
  m.checked_up = haproxy::CheckedUpEverywhere(s);
  m.health = haproxy::HealthByInstance(s);
  for (const haproxy::ServerOnInstance& on : s.instances) {
    if (!on.present) continue;
    if (on.admin == haproxy::Admin::kReady) m.ready_on.push_back(on.instance);
    m.initial_weights.emplace_back(on.instance, on.state.iweight);
    m.sessions_on += (m.sessions_on.empty() ? "" : ", ") + on.instance + " " + std::to_string(on.stat.scur);
  }
  return m;
}

std::unique_ptr<WalkIo> MakeRealWalkIo(const Config& config, std::string password, MaintRecords& records,
                                       WalkRecordInfo info) {
  return std::make_unique<RealWalkIo>(config, std::move(password), records, std::move(info));
}

}  // namespace caretaker
