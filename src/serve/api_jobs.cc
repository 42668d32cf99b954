// The API's changes to a job (api_call.h), each decided by what the CLI's
// `caretaker job` commands share (job_actions.h), with their sentences:
// cancel; restore (serve puts its hosts back); retry (serve goes on with
// it, deciding as `caretaker job retry` does).
#include <boost/json.hpp>

#include "src/config/schedule.h"
#include "src/run/job_actions.h"
#include "src/serve/api_call.h"
#include "src/store/state_open.h"

namespace caretaker::api_detail {

namespace json = boost::json;

namespace {

std::string BeingRestored(int64_t id) {
  return "job " + std::to_string(id) + ": its hosts are being put back (POST /api/v1/jobs/" + std::to_string(id) +
         "/restore); nothing was changed";
}

// "; ..." when the pool's window is closed: what serve does then.
std::string OutsideWindow(const PoolConfig& pool) {
  if (!pool.schedule) return "";
  const SysSeconds now = NowSeconds();
  if (WindowAt(pool.schedule->schedule, now)) return "";
  std::optional<Window> next = NextWindow(pool.schedule->schedule, now);
  return "; pool " + pool.name + "'s window is closed: the member it left out finishes first, then the job pauses "
         "until the window opens (" + (next ? FormatUtc(next->open) : std::string("never")) + ")";
}

}  // namespace

HttpAnswer PostCancel(Call& call) {
  return Mutate(call, "job.cancel", "job " + std::to_string(call.id), [&] {
    auto cancelled = CancelJob(call.host.config(), call.host.store(), call.id, call.Actor());
    if (!cancelled) return Problem(StatusOf(cancelled.error()), cancelled.error().message);
    call.host.Wake();
    json::array left;
    for (const MaintRecord& r : cancelled.value().left_out) left.emplace_back(LeftOutSentence(r));
    return Json(200, {{"result", cancelled.value().text}, {"left_out", std::move(left)}});
  });
}

HttpAnswer PostRestore(Call& call) {
  return Mutate(call, "job.restore", "job " + std::to_string(call.id), [&] {
    const Config& config = call.host.config();
    StateStore& store = call.host.store();
    auto job = store.FindJob(call.id);
    if (!job) return Unreadable(job.error());
    if (!job.value()) return Problem(404, "there is no job " + std::to_string(call.id) + " (`caretaker jobs` lists them)");
    if (std::optional<Error> no = RestoreRefused(config, store, *job.value())) return Problem(StatusOf(*no), no->message);
    if (call.host.Restoring(call.id)) return Problem(409, BeingRestored(call.id));
    const std::string id = std::to_string(call.id);
    // serve goes on with a paused job by itself: it is not put back under it.
    if (job.value()->state == "paused") {
      return Problem(409, "job " + id + " is paused: serve goes on with it in its pool's window; cancel it first "
                          "(POST /api/v1/jobs/" + id + "/cancel), then put its hosts back; nothing was changed");
    }
    if (auto halted = RefusedByHalt(call)) return *halted;
    const std::vector<MaintRecord> out = JobLeftOut(store, *job.value());
    json::array hosts;
    for (const MaintRecord& r : out) hosts.emplace_back(r.pool + "/" + r.server);
    call.host.RestoreJob(*job.value(), call.Actor(), call.Reason());
    return Json(202, {{"result", "putting back " + std::to_string(out.size()) + " host(s) of job " + id +
                                     "; the job ends restored once all are back"},
                      {"hosts", std::move(hosts)},
                      {"location", "/api/v1/jobs/" + id}});
  });
}

// {"reason", "from_step"}: serve goes on with a failed or stopped job from
// where it stopped: a step that failed runs again; `from_step` (1-based;
// steps + 1: all done) says where its one interrupted member goes on.
HttpAnswer PostRetry(Call& call) {
  std::optional<size_t> from_step;
  if (const json::value* f = call.body.if_contains("from_step")) {
    if (!f->is_int64() || f->as_int64() < 1 || f->as_int64() > 1000) {
      return Problem(400, "\"from_step\" is a step number, 1-based (the task's steps + 1: its steps are done)");
    }
    from_step = static_cast<size_t>(f->as_int64());
  }
  return Mutate(call, "job.retry", "job " + std::to_string(call.id), [&] {
    const Config& config = call.host.config();
    StateStore& store = call.host.store();
    const std::string id = std::to_string(call.id);
    auto found = store.FindJob(call.id);
    if (!found) return Unreadable(found.error());
    if (!found.value()) return Problem(404, "there is no job " + id + " (`caretaker jobs` lists them)");
    const Job& job = *found.value();
    if (job.state == "paused") {
      return Problem(409, "job " + id + " is paused: serve goes on with it in its pool's window by itself; "
                          "nothing was changed");
    }
    if (call.host.Restoring(job.id)) return Problem(409, BeingRestored(job.id));
    if (!job.retry_by.empty()) {
      return Problem(409, "job " + id + ": a retry was asked already (by " + job.retry_by +
                              "); serve goes on with it at its next round; nothing was changed");
    }
    if (auto halted = RefusedByHalt(call)) return *halted;
    auto plan = PlanJobRetry(config, store, job, from_step);
    if (!plan) return Problem(StatusOf(plan.error()), plan.error().message);
    auto asked = store.RequestRetry(job.id, job.state, job.owner, call.Actor(), from_step.value_or(0));
    if (!asked) return Problem(503, "the retry cannot be written: " + asked.error().message + "; nothing was changed");
    if (!asked.value()) {
      return Problem(409, "job " + id + " changed meanwhile; look again (GET /api/v1/jobs/" + id + ")");
    }
    call.host.Wake();
    json::array members, skipped;
    for (const std::string& m : plan.value().members) members.emplace_back(m);
    for (const std::string& m : plan.value().skipped) skipped.emplace_back(m);
    return Json(202, {{"result", "job " + id + " goes on on serve with " + std::to_string(members.size()) +
                                     " member(s) from where it stopped" + OutsideWindow(*config.FindPool(job.pool))},
                      {"members", std::move(members)},
                      {"skipped", std::move(skipped)},
                      {"location", "/api/v1/jobs/" + id}});
  });
}

}  // namespace caretaker::api_detail
