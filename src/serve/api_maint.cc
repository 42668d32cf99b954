// POST /api/v1/maintenance/start and /stop: a person's maintenance of one
// member, walked by serve (the one host flow: a one-member walk on a driver,
// member_walk.h). What can be refused at once is, with the CLI's sentence
// (409): no such member, a policy that can never let it out, a record there
// already (or none to stop), the halt, and the capacity policy judged on
// serve's last reading. The walk itself checks capacity again against live
// state under the pool's lock before the drain. 202: the walk started; its
// end is in the audit trail (maint.walk.end) and the event stream.
#include <boost/json.hpp>

#include "src/run/maint_target.h"
#include "src/serve/api_call.h"
#include "src/serve/pool_watch.h"
#include "src/store/state_open.h"

namespace caretaker::api_detail {

namespace json = boost::json;

namespace {

// The member named by "member" ("pool/server" or a server name), or the
// problem to answer.
Result<MemberRef> ReadMember(const Call& call) {
  const json::value* member = call.body.if_contains("member");
  if (!member || !member->is_string() || member->as_string().empty()) {
    return Error{"\"member\" is required: POOL/SERVER or a server name", ErrorKind::kUsage};
  }
  auto ref = FindMember(call.host.config(), std::string(member->as_string()));
  if (!ref) return Error{ref.error().message, ErrorKind::kNotFound};
  return ref;
}

HttpAnswer Accepted(const MemberRef& ref, const std::string& result) {
  HttpAnswer a = Json(202, {{"result", result}, {"location", "/api/v1/pools/" + ref.pool->name}});
  a.headers.emplace_back("Location", "/api/v1/pools/" + ref.pool->name);
  return a;
}

}  // namespace

// {"member", "for" (required: "2h"), "reason", "force_sessions"}
HttpAnswer PostMaintStart(Call& call) {
  auto ref = ReadMember(call);
  if (!ref) return Problem(ref.error().code == ErrorKind::kNotFound ? 404 : 400, ref.error().message);
  const json::value* length = call.body.if_contains("for");
  if (!length || !length->is_string()) {
    return Problem(400, "\"for\" is required: how long the maintenance lasts (\"2h\", \"30m\"), so a host is never "
                        "out of traffic without an end");
  }
  std::optional<Millis> lasts = ParseDuration(std::string(length->as_string()));
  if (!lasts || *lasts <= Millis(0)) return Problem(400, "\"for\" must be a duration such as \"2h\" or \"30m\"");
  const json::value* force = call.body.if_contains("force_sessions");
  if (force && !force->is_bool()) return Problem(400, "\"force_sessions\" must be true or false");
  const std::string key = ref.value().pool->name + "/" + ref.value().member->server;
  return Mutate(call, "maint.start", key, [&]() -> HttpAnswer {
    const Config& config = call.host.config();
    StateStore& store = call.host.store();
    const PoolConfig& pool = *ref.value().pool;
    const std::string& server = ref.value().member->server;
    if (auto valid = CheckPoolPolicy(config, pool); !valid) return Problem(409, valid.error().message);
    auto existing = store.Find(pool.name, server);
    if (!existing) return Unreadable(existing.error());
    if (const std::optional<MaintRecord>& r = existing.value()) {
      return Problem(409, server + " is already in maintenance (" + r->phase + ", by " + r->who + " since " +
                              FormatUtc(r->since) + ": " + r->reason + "); `caretaker maint stop " + server +
                              "` puts it back");
    }
    if (auto halted = RefusedByHalt(call)) return *halted;
    // Judged on serve's last reading first (the walk judges live state again).
    std::shared_ptr<const PoolReading> reading = call.host.Pools();
    if (const PoolStatus* p = reading ? reading->report.Find(pool.name) : nullptr) {
      auto records = store.List();
      if (!records) return Unreadable(records.error());
      const policies::Decision d = policies::MayTakeOut(pool.capacity, PolicySnapshot(reading->report, *p, records.value()), server);
      if (!d.allowed()) return Problem(409, "refusing to take " + server + " out: " + d.reason + "; nothing was changed");
    }
    MemberWalkRequest request;
    request.pool = pool.name;
    request.server = server;
    request.take_out = true;
    request.who = call.Actor();
    request.reason = call.Reason();
    request.until = NowSeconds() + std::chrono::duration_cast<std::chrono::seconds>(*lasts);
    request.force_sessions = force && force->as_bool();
    call.host.WalkMember(request);
    return Accepted(ref.value(), "taking " + key + " out of traffic until " + FormatUtc(*request.until) +
                                     " (capacity checked against live state first, then drain, MAINT)");
  });
}

// {"member", "reason"}
HttpAnswer PostMaintStop(Call& call) {
  auto ref = ReadMember(call);
  if (!ref) return Problem(ref.error().code == ErrorKind::kNotFound ? 404 : 400, ref.error().message);
  const std::string key = ref.value().pool->name + "/" + ref.value().member->server;
  return Mutate(call, "maint.stop", key, [&]() -> HttpAnswer {
    StateStore& store = call.host.store();
    const std::string& server = ref.value().member->server;
    auto existing = store.Find(ref.value().pool->name, server);
    if (!existing) return Unreadable(existing.error());
    if (!existing.value()) {
      return Problem(409, server + " has no maintenance record: there is nothing to stop (a host taken out by hand "
                                   "is put back by `caretaker maint stop " + key + "`, which records it first)");
    }
    auto job = existing.value()->job ? store.FindJob(existing.value()->job) : Result<std::optional<Job>>(std::nullopt);
    if (!job) return Unreadable(job.error());
    if (job.value() && !job.value()->Ended()) {
      return Problem(409, server + " is out of traffic for job " + std::to_string(existing.value()->job) +
                              " (" + job.value()->state + "): POST /api/v1/jobs/" +
                              std::to_string(existing.value()->job) + "/restore puts its hosts back; nothing was changed");
    }
    MemberWalkRequest request;
    request.pool = ref.value().pool->name;
    request.server = server;
    request.who = call.Actor();
    request.reason = call.Reason();
    call.host.WalkMember(request);
    return Accepted(ref.value(), "putting " + key + " back (its gates, READY, UP; its record removed last)");
  });
}

}  // namespace caretaker::api_detail
