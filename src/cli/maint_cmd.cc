// `caretaker maint start/stop/list`, and the put-back of `job restore`: walks
// of one member (member_walk.h) on a driver of their own, their progress on
// stderr, their result in the words `maint` has always used.
#include "src/cli/maint_cmd.h"

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <deque>

#include "src/base/event_loop.h"
#include "src/base/file_lock.h"
#include "src/base/log.h"
#include "src/cli/exit_code.h"
#include "src/cli/foreground.h"
#include "src/cli/maint_list.h"
#include "src/cli/progress.h"
#include "src/run/driver.h"
#include "src/run/fleet.h"
#include "src/run/maint_target.h"
#include "src/run/member_walk.h"
#include "src/run/preflight.h"
#include "src/run/step_runner.h"
#include "src/store/maint_record.h"
#include "src/store/state_open.h"

namespace caretaker {
namespace {

namespace asio = boost::asio;

std::string Sessions(int64_t n) { return std::to_string(n) + (n == 1 ? " session" : " sessions"); }

std::string Key(const MemberRef& ref) { return ref.pool->name + "/" + ref.member->server; }

// The member's lock: one maint command per member at a time, held from
// before its first read until its walk is done with it.
Result<FileLock> LockMember(const Config& config, const MemberRef& ref) {
  auto lock = FileLock::Acquire(LockPath(config, "member-" + ref.pool->name + "-" + ref.member->server), Millis(0));
  if (!lock) return Error{lock.error().message, ErrorKind::kRefused};
  return std::move(lock).value();
}

// The one-member walks of a command, on one event loop and one driver.
class MemberWalks {
 public:
  MemberWalks(const Config& config, const MaintIo& io, MaintRecords& records, const std::string& password,
              WalkRecordInfo info)
      : config_(config), io_(io), fleet_(Fleet::FromConfig(config)) {
    world_ = MakeRealWalkIo(config, password, records, std::move(info));
  }

  void Add(const MemberRef& ref, FileLock lock, WalkSpec spec) {
    walks_.push_back(roll_detail::PoolWalk{ref.pool, &NoSteps(), std::move(spec)});
    locks_.push_back(std::move(lock));
  }
  // What every walk checks first (roll_preflight.h); nullopt when it passed.
  std::optional<Error> Preflight() {
    roll_detail::Preflight preflight(config_, *world_, walks_);
    std::optional<Error> stop = RunOn(loop_, preflight.Run());
    if (!stop) live_ = preflight.live();
    return stop;
  }
  // Walk `i`'s member as the preflight read it.
  const MemberView& Live(size_t i) const {
    for (const MemberView& m : live_.at(i).members) {
      if (m.server == walks_[i].spec.members.front()) return m;
    }
    throw std::logic_error("the preflight reads every member of the pool");
  }
  WalkIo& world() { return *world_; }
  void Drop(size_t i) { dropped_.insert(i); }  // not walked after all
  bool dropped(size_t i) const { return dropped_.count(i) > 0; }

  // Walks every walk to its end, with the progress on stderr. Ctrl-C: no
  // member starts, draining ones go back, the others finish; again: stop
  // everything where it is.
  void Run();

  // After Run(): walk `i`'s member as it ended, and why its walk refused it.
  const HostStatus& Host(size_t i) const { return ended_.at(i); }
  const std::string& Refusal(size_t i) const { return refusals_.at(i); }
  bool interrupted() const { return signals_seen_ > 0; }
  std::string InstanceNames(size_t i) const {
    std::string out;
    for (const haproxy::Client* c : fleet_.For(*walks_[i].pool)) out += (out.empty() ? "" : ", ") + c->name();
    return out;
  }

 private:
  std::string StatusLine(const RollDriver& driver, SteadyTime now) const;

  const Config& config_;
  const MaintIo& io_;
  Fleet fleet_;
  asio::io_context loop_;
  std::unique_ptr<WalkIo> world_;
  std::vector<roll_detail::PoolWalk> walks_;
  std::deque<FileLock> locks_;
  std::set<size_t> dropped_;
  std::vector<PoolView> live_;
  std::map<size_t, HostStatus> ended_;
  std::map<size_t, std::string> refusals_;
  int signals_seen_ = 0;
};

// One member: "drain: 2 sessions open, 8s left"; several: one clause each.
std::string MemberWalks::StatusLine(const RollDriver& driver, SteadyTime now) const {
  std::string out;
  for (const RollDriver::Walk& w : driver.walks()) {
    const HostStatus& h = w.walker.hosts().front();
    if (!h.started || h.ended) continue;
    std::string what = std::string(HostPhaseName(h.phase)) + " " +
                       HumanDuration(std::chrono::duration_cast<Millis>(now - *h.started));
    const std::string detail = h.detail.substr(0, h.detail.find('\n'));
    out += (out.empty() ? "" : ", ") + (driver.walks().size() > 1 ? w.pool->name + "/" : "") + h.server + " " +
           what + (detail.empty() ? "" : " (" + detail + ")");
  }
  return out;
}

void MemberWalks::Run() {
  Progress progress(io_.err, io_.tty, std::chrono::seconds(5), io_.tty ? TerminalColumns(STDERR_FILENO) : 0);
  const bool many = walks_.size() - dropped_.size() > 1;
  RollHooks hooks;
  hooks.on_event = [&](const std::string& pool, const WalkEvent& e) {
    LogEvent(LogLevel::kDebug, "maint.event", {{"pool", pool}, {"server", e.server}, {"text", e.text}});
    if (e.server.empty() && e.text.starts_with("stopping: ")) return;  // the closing line says why
    const std::string who = e.server.empty() ? "" : (many ? pool + "/" : "") + e.server + ": ";
    progress.Note((e.warning ? "! " : "  ") + who + e.text);
  };
  auto steps = MakeProcessStepRunner(loop_.get_executor());
  RollDriver driver(loop_, config_, *world_, *steps, hooks);
  driver.hooks().on_tick = [&] {
    const std::string line = StatusLine(driver, std::chrono::steady_clock::now());
    if (!line.empty()) progress.Update("maint", line);
  };
  std::vector<size_t> added;
  for (size_t i = 0; i < walks_.size(); ++i) {
    if (dropped_.count(i)) continue;
    std::map<std::string, FileLock> held;
    held.emplace(walks_[i].spec.members.front(), std::move(locks_[i]));
    driver.Add(*walks_[i].pool, NoSteps(), walks_[i].spec, std::move(held));
    added.push_back(i);
  }
  signals_seen_ = RunInForeground(loop_, driver, progress,
                                  {"interrupted: a member draining goes back READY, one in its gates finishes them",
                                   "aborting: members stay where they are"});
  progress.Clear();
  for (size_t k = 0; k < added.size(); ++k) {
    const Walker& walker = driver.walks()[k].walker;
    ended_[added[k]] = walker.hosts().front();
    refusals_[added[k]] = walker.capacity_refusal();
  }
}

// How a walk of one member ended, in maint's words on stderr; its exit code.
int SayFailure(const MaintIo& io, const HostStatus& h, const std::string& refusal, bool interrupted,
               const std::string& instances) {
  if (h.phase == HostPhase::kPending) {
    if (!refusal.empty()) {
      io.err << "caretaker: refusing to take " << h.server << " out: " << refusal << "; nothing was changed\n";
      return kExitRefused;
    }
    io.err << "caretaker: " << (interrupted ? "interrupted before any change" : "nothing started") << "; "
           << h.server << " was not changed\n";
    return kExitFailed;
  }
  if (h.phase == HostPhase::kSkipped) {
    io.err << "caretaker: " << h.server << " was not changed: " << h.detail << "\n";
    return kExitRefused;
  }
  io.err << "caretaker: " << h.server << ": " << h.detail << "\n";
  if (!h.may_be_in_traffic.empty()) {
    io.err << "caretaker: " << h.server << " MAY BE IN TRAFFIC: " << h.may_be_in_traffic
           << "; its maintenance record stays (caretaker maint list)\n";
  } else if (h.out_of_traffic) {
    io.err << "caretaker: " << h.server << " stays out of traffic; its maintenance record stays (caretaker maint "
           << "list); `caretaker maint stop " << h.server << "` puts it back\n";
  } else if (h.restored) {
    io.err << "caretaker: " << h.server << " is back READY on " << instances << "\n";
  }
  return h.phase == HostPhase::kFailed ? ExitCode(h.code) : kExitFailed;
}

struct Opened {
  MemberRef ref;
  std::string password;
  std::optional<FileLock> lock;
  int code = 0;  // non-zero: stop, said
};

// HOST (exit 2 when it names no member, or several), the pool's policy when
// taking out, the MySQL password, the member's lock (exit 3 when another
// command holds it).
Opened Open(const Config& config, const std::string& host, bool taking_out, const MaintIo& io) {
  Opened o;
  auto ref = FindMember(config, host);
  auto policy = !ref ? Result<void>(ref.error())
                     : taking_out ? CheckPoolPolicy(config, *ref.value().pool)
                                  : Result<void>(boost::outcome_v2::success());
  auto password = policy ? ReadMysqlPassword(config.mysql) : Result<std::string>(policy.error());
  if (!password) {
    io.err << "caretaker: " << password.error().message << "\n";
    o.code = kExitUsage;
    return o;
  }
  o.ref = ref.value();
  o.password = password.value();
  auto lock = LockMember(config, o.ref);
  if (!lock) {
    io.err << "caretaker: " << lock.error().message << "\n";
    o.code = kExitRefused;
    return o;
  }
  o.lock.emplace(std::move(lock).value());
  return o;
}

std::unique_ptr<StateStore> OpenStore(const Config& config, const MaintIo& io) {
  auto store = OpenStateStore(config, OperatorName() + " (caretaker maint)");
  if (store) return std::move(store).value();
  io.err << "caretaker: " << store.error().message << "; nothing was changed\n";
  return nullptr;
}

std::string GatesPassed(const HostStatus& h) {
  std::string out;
  for (const auto& [gate, took] : h.gates_passed) {
    out += std::string(out.empty() ? "" : ", ") + GateName(gate) + " " + HumanDuration(took);
  }
  return out;
}

}  // namespace

int RunMaintStart(const Config& config, const MaintStartOptions& options, const MaintIo& io) {
  Opened o = Open(config, options.host, /*taking_out=*/true, io);
  if (o.code) return o.code;
  std::unique_ptr<StateStore> store = OpenStore(config, io);
  if (!store) return kExitFailed;
  const std::string& server = o.ref.member->server;
  auto existing = store->Find(o.ref.pool->name, server);
  if (!existing) {
    io.err << "caretaker: " << existing.error().message << "\n";
    return kExitFailed;
  }
  if (const std::optional<MaintRecord>& r = existing.value()) {
    io.err << "caretaker: " << server << " is already in maintenance (" << r->phase << ", by " << r->who << " since "
           << FormatUtc(r->since) << ": " << r->reason << "); `caretaker maint stop " << server << "` puts it back\n";
    return kExitRefused;
  }
  WalkRecordInfo info;
  info.who = options.who.empty() ? OperatorName() : options.who;
  info.reason = options.reason;
  if (options.for_duration) {
    info.until = NowSeconds() + std::chrono::duration_cast<std::chrono::seconds>(*options.for_duration);
  }
  info.locked.insert(Key(o.ref));
  const std::string who = info.who;
  const std::optional<SysSeconds> until = info.until;
  MemberWalks walks(config, io, *store, o.password, std::move(info));
  walks.Add(o.ref, std::move(*o.lock), TakeOutSpec(config, *o.ref.pool, *o.ref.member, options.force_sessions));
  try {
    if (std::optional<Error> stop = walks.Preflight()) {
      io.err << "caretaker: " << stop->message << "\n";
      return ExitCode(stop->code);
    }
    walks.Run();
  } catch (const std::exception& e) {
    io.err << "caretaker: internal error: " << e.what() << "\n"
           << "caretaker: " << server << " MAY BE OUT OF TRAFFIC: check `caretaker status` and `caretaker maint list` "
           << "(its record, if any, is kept)\n";
    return kExitFailed;
  }
  const HostStatus& h = walks.Host(0);
  if (h.phase != HostPhase::kHeld) return SayFailure(io, h, walks.Refusal(0), walks.interrupted(), walks.InstanceNames(0));
  io.out << server << " is in maintenance: drained in " << HumanDuration(h.drained_in)
         << (h.sessions_shut_down ? " (" + Sessions(h.sessions_shut_down) + " shut down)" : "") << ", MAINT on "
         << walks.InstanceNames(0) << "\n"
         << "  pool " << o.ref.pool->name << ", " << o.ref.member->host << ":" << o.ref.member->port << ", by " << who
         << ": " << options.reason << "\n"
         << "  until " << (until ? FormatUtc(*until) : std::string("(no end set)")) << "\n"
         << "put it back with: caretaker maint stop " << server << "\n";
  return 0;
}

int RunPutBack(const Config& config, const std::vector<std::string>& hosts, const MaintIo& io) {
  // Putting a member back never costs capacity: no policy check.
  std::vector<Opened> opened;
  for (const std::string& host : hosts) {
    opened.push_back(Open(config, host, /*taking_out=*/false, io));
    if (opened.back().code) return opened.back().code;
  }
  if (opened.empty()) return 0;
  std::unique_ptr<StateStore> store = OpenStore(config, io);
  if (!store) return kExitFailed;
  WalkRecordInfo info;
  info.who = OperatorName();
  info.reason = "maint stop of a server found out of traffic without a record";
  for (const Opened& o : opened) {
    info.adopt.insert(Key(o.ref));
    info.locked.insert(Key(o.ref));
  }
  MemberWalks walks(config, io, *store, opened.front().password, std::move(info));
  std::vector<bool> recorded;
  for (Opened& o : opened) {
    auto found = store->Find(o.ref.pool->name, o.ref.member->server);
    if (!found) {
      io.err << "caretaker: " << found.error().message << "\n";
      return kExitFailed;
    }
    recorded.push_back(found.value().has_value());
    walks.Add(o.ref, std::move(*o.lock), PutBackSpec(config, *o.ref.pool, *o.ref.member));
  }
  int worst = 0;
  try {
    if (std::optional<Error> stop = walks.Preflight()) {
      io.err << "caretaker: " << stop->message << "\n";
      return ExitCode(stop->code);
    }
    for (size_t i = 0; i < opened.size(); ++i) {
      if (recorded[i]) continue;
      const MemberView& m = walks.Live(i);
      const std::string& server = m.server;
      if (m.ready_everywhere) {
        walks.Drop(i);
        if (m.checked_up) {
          io.out << server << " is not in maintenance and is in service on " << walks.InstanceNames(i) << "\n";
          continue;
        }
        io.err << "caretaker: " << server << " is not in maintenance but is not UP everywhere (" << m.health
               << "); nothing was changed\n";
        worst = std::max(worst, kExitFailed);
        continue;
      }
      // Taken out by hand: recorded before anything touches it, so a failure
      // below leaves it out WITH a record.
      io.err << "note: " << server << " has no maintenance record but is out of traffic (" << m.health
             << "); recording it, then putting it back through the gates\n";
      auto put = RecordIfOut(walks.world(), *opened[i].ref.pool, *opened[i].ref.member, m);
      if (!put) {
        io.err << "caretaker: cannot write the maintenance record of " << server << ": " << put.error().message
               << "; nothing was changed\n";
        walks.Drop(i);
        worst = std::max(worst, kExitFailed);
      }
    }
    walks.Run();
  } catch (const std::exception& e) {
    io.err << "caretaker: internal error: " << e.what() << "\n"
           << "caretaker: MEMBERS MAY BE OUT OF TRAFFIC: check `caretaker status` and `caretaker maint list`\n";
    return kExitFailed;
  }
  for (size_t i = 0; i < opened.size(); ++i) {
    if (walks.dropped(i)) continue;
    const HostStatus& h = walks.Host(i);
    if (h.phase != HostPhase::kDone) {
      worst = std::max(worst, SayFailure(io, h, walks.Refusal(i), walks.interrupted(), walks.InstanceNames(i)));
      continue;
    }
    io.out << h.server << " is back in service: READY and UP on " << walks.InstanceNames(i) << "\n"
           << "  gates passed: " << GatesPassed(h) << "\n";
    if (h.record) io.err << "caretaker: warning: " << h.server << ": " << h.detail << "\n";
  }
  return worst;
}

int RunMaintStop(const Config& config, const MaintStopOptions& options, const MaintIo& io) {
  return RunPutBack(config, {options.host}, io);
}

int RunMaintList(const Config& config, bool json, const MaintIo& io) {
  auto store = OpenStateStore(config, OperatorName() + " (caretaker maint list)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n";
    return kExitFailed;
  }
  auto list = store.value()->List();
  if (!list) {
    io.err << "caretaker: " << list.error().message << "\n";
    return kExitFailed;
  }
  auto now = NowSeconds();
  io.out << (json ? RenderMaintListJson(list.value(), now) + "\n" : RenderMaintList(list.value(), now, io.color));
  return 0;
}

}  // namespace caretaker
