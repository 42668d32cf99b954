// serve's one-member walks (member_walk.h) on drivers of its own, inside
// its host budget and the halt: an expired record's restore, the API's
// maintenance start and stop, and a job's restore.
#include "src/serve/daemon_server.h"

namespace caretaker::daemon_detail {

void Server::AbortRestores(const std::string& why) {
  if (!restoring_.empty()) LogEvent(LogLevel::kWarn, "serve.maint.restore.abort", {{"why", why}});
  for (RollDriver* d : restoring_) d->Abort();
}

asio::awaitable<Server::WalkEnd> Server::WalkOne(std::shared_ptr<const Config> config, MemberWalkRequest r,
                                                 std::string log_as) {
  WalkEnd end;
  auto ref = FindMember(*config, r.pool + "/" + r.server);
  if (!ref) {
    end.why = ref.error().message;
    co_return end;
  }
  const PoolConfig& pool = *ref.value().pool;
  WalkRecordInfo info;
  info.who = r.who;
  info.reason = r.reason;
  info.until = r.until;
  if (!r.take_out) info.adopt.insert(r.pool + "/" + r.server);
  std::unique_ptr<WalkIo> world = MakeRealWalkIo(*config, password_, *store_, std::move(info));
  std::vector<roll_detail::PoolWalk> walks{
      {&pool, &NoSteps(),
       r.take_out ? TakeOutSpec(*config, pool, *ref.value().member, r.force_sessions)
                  : PutBackSpec(*config, pool, *ref.value().member)}};
  roll_detail::Preflight preflight(*config, *world, walks);
  auto checked = preflight.Run();
  std::optional<Error> refused = co_await std::move(checked);
  if (refused) {
    end.why = refused->message;
    co_return end;
  }
  RollHooks hooks;
  hooks.on_event = [log_as](const std::string& pool, const WalkEvent& e) {
    LogEvent(e.warning ? LogLevel::kWarn : LogLevel::kInfo, log_as + ".event",
             {{"pool", pool}, {"server", e.server}, {"text", e.text}});
  };
  RollDriver driver(io_, *config, *world, *steps_, hooks);
  driver.ShareBudget(budget_);
  driver.SetHaltCheck([this, config] { return CheckHalt(store_.get(), config->halt_file); });
  driver.Add(pool, NoSteps(), walks.front().spec);
  restoring_.insert(&driver);
  if (stops_ > 0) driver.Abort();
  auto run = driver.Run();
  co_await std::move(run);
  restoring_.erase(&driver);
  end.by_halt = halted_.erase(&driver) > 0;
  const Walker& walker = driver.walks().front().walker;
  const HostStatus& h = walker.hosts().front();
  end.ok = h.phase == (r.take_out ? HostPhase::kHeld : HostPhase::kDone);
  end.out = h.out_of_traffic || h.phase == HostPhase::kHeld;
  if (!end.ok) {
    end.why = h.phase == HostPhase::kPending && !walker.capacity_refusal().empty()
                  ? "refusing to take " + r.server + " out: " + walker.capacity_refusal() + "; nothing was changed"
                  : h.detail.substr(0, h.detail.find('\n'));
  }
  co_return end;
}

asio::awaitable<void> Server::Restore(std::shared_ptr<const Config> config, MaintRecord record) {
  ++restores_;
  LogEvent(LogLevel::kWarn, "serve.maint.restore", {{"pool", record.pool}, {"server", record.server}});
  MemberWalkRequest r;
  r.pool = record.pool;
  r.server = record.server;
  r.who = "caretaker serve";
  r.reason = "restore of an expired maintenance record";
  auto walk = WalkOne(config, r, "serve.maint.restore");
  const WalkEnd end = co_await std::move(walk);
  const bool ok = end.ok, by_halt = end.by_halt;
  LogEvent(ok ? LogLevel::kInfo : LogLevel::kError, "serve.maint.restore.end",
           {{"pool", record.pool}, {"server", record.server}, {"ok", ok}, {"why", end.why},
            {"left", ok ? std::string("back in traffic") : std::string("STILL OUT OF TRAFFIC")},
            {"then", ok        ? std::string()
                     : by_halt ? std::string("tried again once the halt is lifted")
                               : "tried again in " + HumanDuration(kExpiryReminder) + "; `caretaker maint stop " + record.pool + "/" + record.server +
                                     "` puts it back now"}});
  using Ended = ExpiryWatch::Ended;
  expiry_.RestoreEnded(record, ok ? Ended::kBack : by_halt ? Ended::kHalted : Ended::kFailed, NowSeconds());
  --restores_;
  Wake();
}

void Server::WalkMember(MemberWalkRequest request) {
  ++restores_;
  asio::co_spawn(io_, [this, request, config = config_]() -> asio::awaitable<void> {
    const std::string key = request.pool + "/" + request.server;
    LogEvent(LogLevel::kInfo, "serve.maint.walk",
             {{"member", key}, {"what", request.take_out ? "take out" : "put back"}, {"who", request.who}});
    WalkEnd end;
    try {
      auto walk = WalkOne(config, request, "serve.maint.walk");
      end = co_await std::move(walk);
    } catch (const std::exception& e) {
      end.why = std::string("internal error: ") + e.what() + "; it MAY BE OUT OF TRAFFIC (its record, if any, is kept)";
      end.out = true;
    }
    const std::string text =
        end.ok ? (request.take_out ? "in maintenance: drained, MAINT on every instance, until " + FormatUtc(*request.until)
                                   : std::string("back in service: READY and UP on every instance"))
               : std::string(request.take_out ? "not taken out" : "not put back") + ": " + end.why +
                     (end.out ? "; it stays OUT OF TRAFFIC with its record" : "");
    LogEvent(end.ok ? LogLevel::kInfo : LogLevel::kError, "serve.maint.walk.end", {{"member", key}, {"text", text}});
    AuditEntry entry{0, {}, request.who, "maint.walk.end", key, request.reason};
    entry.result = (end.ok ? "ok: " : "failed: ") + text;
    (void)store_->Audit(entry);
    --restores_;
    Wake();
  }, asio::detached);
}

void Server::RestoreJob(Job job, std::string who, std::string reason) {
  ++restores_;
  restoring_jobs_.insert(job.id);
  asio::co_spawn(io_, [this, job, who, reason, config = config_]() -> asio::awaitable<void> {
    const std::string id = std::to_string(job.id);
    const std::vector<MaintRecord> out = JobLeftOut(*store_, job);
    LogEvent(LogLevel::kInfo, "serve.job.restore", {{"job", job.id}, {"hosts", static_cast<int64_t>(out.size())}, {"who", who}});
    std::string failed;
    for (const MaintRecord& r : out) {
      MemberWalkRequest q;
      q.pool = r.pool;
      q.server = r.server;
      q.who = who;
      q.reason = reason;
      WalkEnd end;
      try {
        auto walk = WalkOne(config, q, "serve.job.restore");
        end = co_await std::move(walk);
      } catch (const std::exception& e) {
        end.why = std::string("internal error: ") + e.what();
      }
      if (!end.ok) failed += (failed.empty() ? "" : "; ") + r.pool + "/" + r.server + ": " + end.why;
    }
    std::string result;
    if (!failed.empty()) {
      result = "failed: still OUT OF TRAFFIC with their records: " + failed + "; job " + id + " stays " + job.state;
    } else {
      const std::string detail =
          out.empty() ? "nothing was out of traffic" : std::to_string(out.size()) + " host(s) put back";
      if (std::optional<Error> no = EndJobAsRead(*store_, job, "restored", detail)) {
        result = "failed: " + no->message;
      } else {
        BreakDeadLease(*config, *store_, job.pool);
        result = "ok: job " + id + " restored: " + detail;
      }
    }
    LogEvent(failed.empty() ? LogLevel::kInfo : LogLevel::kError, "serve.job.restore.end", {{"job", job.id}, {"result", result}});
    AuditEntry entry{0, {}, who, "job.restore.end", "job " + id, reason};
    entry.result = result;
    entry.job = job.id;
    (void)store_->Audit(entry);
    restoring_jobs_.erase(job.id);
    --restores_;
    Wake();
  }, asio::detached);
}

void Server::WatchExpiry(SysSeconds now, bool halted) {
  if (now < next_expiry_) return;
  next_expiry_ = now + kExpiryEvery;
  auto records = store_->List();
  if (!records) {
    LogEvent(LogLevel::kError, "serve.maint.unreadable", {{"error", records.error().message}});
    return;
  }
  for (const ExpiryAction& a : expiry_.Tick(*config_, records.value(), now, halted)) {
    const MaintRecord& r = a.record;
    if (a.kind == ExpiryAction::Kind::kRestore) {
      asio::co_spawn(io_, Restore(config_, r), asio::detached);
      continue;
    }
    const PoolConfig* pool = config_->FindPool(r.pool);
    LogEvent(LogLevel::kError, "maint.expired",
             {{"pool", r.pool}, {"server", r.server}, {"who", r.who}, {"reason", r.reason},
              {"until", FormatUtc(*r.until)}, {"phase", r.phase},
              {"then", pool && pool->on_maint_expiry == MaintExpiry::kRestore
                           ? (halted ? std::string("restore waits: halted") : std::string("putting it back"))
                           : "it stays OUT OF TRAFFIC: `caretaker maint stop " + r.pool + "/" + r.server + "`"}});
    if (a.first) {
      (void)store_->Audit({0, {}, "caretaker serve", "maint.expired", r.pool + "/" + r.server, r.reason});
      NotifyEvent e = NotifyEvent::Of("maint.expired", r);
      e.text = "caretaker: maintenance of " + r.pool + "/" + r.server + " by " + r.who + " expired at " +
               FormatUtc(*r.until) + " (" + r.reason + "); " +
               (pool && pool->on_maint_expiry == MaintExpiry::kRestore ? "putting it back"
                                                                       : "it stays OUT OF TRAFFIC until `caretaker maint stop " +
                                                                             r.pool + "/" + r.server + "`");
      notifier_.Emit(std::move(e));
    }
  }
}

}  // namespace caretaker::daemon_detail
