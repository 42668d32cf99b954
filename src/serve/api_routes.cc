// The API's routes (api.h): each a function of a request that has passed the
// gate (api.cc) — its token known, a POST's body an object with a reason.
#include <boost/json.hpp>
#include <charconv>
#include <optional>

#include "src/base/log.h"
#include "src/run/config_check.h"
#include "src/run/job_follower.h"
#include "src/run/roll_setup.h"
#include "src/run/views.h"
#include "src/serve/api_call.h"
#include "src/store/state_open.h"
#include "src/walk/job_run.h"

namespace caretaker::api_detail {

namespace json = boost::json;

namespace {

constexpr size_t kMaxPage = 1000;

std::optional<int64_t> ParseId(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

// ?before=ID&limit=N of a page, newest first; the error's sentence, or "".
std::string ReadPage(const Call& call, int64_t& before, size_t& limit) {
  if (const std::string& b = call.Query("before"); !b.empty()) {
    auto v = ParseId(b);
    if (!v) return "before must be an id (the \"next\" of the page before)";
    before = *v;
  }
  if (const std::string& l = call.Query("limit"); !l.empty()) {
    auto v = ParseId(l);
    if (!v || *v > static_cast<int64_t>(kMaxPage)) return "limit must be 1-1000";
    limit = static_cast<size_t>(*v);
  }
  return "";
}

// `items` under `key`, and "next": the id to ask `before` for the next page
// (null on the last page: one not full).
template <class T, class View>
HttpAnswer Page(const char* key, const std::vector<T>& items, size_t limit, View view) {
  json::array list;
  for (const T& item : items) list.push_back(view(item));
  json::object doc{{key, std::move(list)}};
  doc["next"] = items.size() == limit && !items.empty() ? json::value(items.back().id) : json::value(nullptr);
  return Json(200, doc);
}

HttpAnswer GetStatus(Call& call) {
  const Config& config = call.host.config();
  StateStore& store = call.host.store();
  auto halt = store.ReadHalt();
  auto records = store.List();
  if (!records) return Unreadable(records.error());
  json::array pools;
  for (const PoolConfig& p : config.pools) {
    int64_t out = 0;
    for (const MaintRecord& r : records.value()) out += r.pool == p.name;
    json::object o{{"name", p.name}, {"members", static_cast<int64_t>(p.members.size())}, {"out_of_traffic", out}};
    auto head = PoolHead(store, p.name);
    o["queue_head"] = head && head.value() ? json::value(head.value()->id) : json::value(nullptr);
    pools.push_back(std::move(o));
  }
  json::array running;
  for (const auto& [id, pool] : call.host.Running()) {
    if (auto job = store.FindJob(id); job && job.value()) running.push_back(JobView(config, store, *job.value()));
  }
  return Json(200, {{"halt", HaltView(CheckHalt(&store, config.halt_file), halt ? halt.value() : std::nullopt)},
                    {"pools", std::move(pools)},
                    {"running_jobs", std::move(running)},
                    {"out_of_traffic", static_cast<int64_t>(records.value().size())},
                    {"config", config.path}});
}

HttpAnswer GetMaintenance(Call& call) {
  auto records = call.host.store().List();
  if (!records) return Unreadable(records.error());
  const SysSeconds now = NowSeconds();
  json::array list;
  for (const MaintRecord& r : records.value()) list.push_back(RecordView(r, now));
  return Json(200, {{"now", FormatUtc(now)}, {"maintenance", std::move(list)}});
}

// The config file serve runs, read again from disk as `caretaker check`
// reads it (what a SIGHUP would load), beside the one running.
HttpAnswer GetCheck(Call& call) {
  const Config& running = call.host.config();
  json::object doc{{"path", running.path}};
  auto loaded = LoadConfig(running.path);
  json::array errors, policies;
  std::string summary;
  if (!loaded) {
    errors.emplace_back(loaded.error().message);
  } else {
    const ConfigCheck check = CheckConfig(loaded.value());
    for (const std::string& e : check.errors) errors.emplace_back(e);
    for (const std::string& p : check.policies) policies.emplace_back(p);
    summary = check.summary;
  }
  doc["valid"] = errors.empty();
  doc["errors"] = std::move(errors);
  doc["summary"] = summary;
  doc["policies"] = std::move(policies);
  json::array now;
  for (const PoolConfig& p : running.pools) now.emplace_back(DescribePolicy(p));
  doc["running_policies"] = std::move(now);
  return Json(200, doc);
}

// ?who=&action=&target=&before=&limit=
HttpAnswer GetAudit(Call& call) {
  AuditQuery q;
  q.who = call.Query("who");
  q.action = call.Query("action");
  q.target = call.Query("target");
  if (std::string bad = ReadPage(call, q.before, q.limit); !bad.empty()) return Problem(400, bad);
  auto entries = call.host.store().ListAudit(q);
  if (!entries) return Problem(503, "the audit trail cannot be read: " + entries.error().message);
  return Page("audit", entries.value(), q.limit, AuditView);
}

// ?state=&pool=&before=&limit=
HttpAnswer GetJobs(Call& call) {
  const Config& config = call.host.config();
  StateStore& store = call.host.store();
  JobQuery q;
  q.state = call.Query("state");
  q.pool = call.Query("pool");
  if (!q.state.empty() && std::find(std::begin(kJobStates), std::end(kJobStates), q.state) == std::end(kJobStates)) {
    return Problem(400, "state must be one of queued, running, paused, done, failed, stopped, cancelled, restored");
  }
  if (std::string bad = ReadPage(call, q.before, q.limit); !bad.empty()) return Problem(400, bad);
  auto jobs = store.ListJobs(q);
  if (!jobs) return Unreadable(jobs.error());
  auto records = store.List();
  for (Job& job : jobs.value()) {
    if (records) MarkOutFromRecords(records.value(), job);
  }
  return Page("jobs", jobs.value(), q.limit, [&](const Job& job) { return JobView(config, store, job); });
}

HttpAnswer GetJob(Call& call) {
  StateStore& store = call.host.store();
  auto job = store.FindJob(call.id);
  if (!job) return Unreadable(job.error());
  if (!job.value()) return Problem(404, "there is no job " + std::to_string(call.id));
  if (auto records = store.List(); records) MarkOutFromRecords(records.value(), *job.value());
  return Json(200, JobView(call.host.config(), store, *job.value()));
}

// ?after=ID&limit=N: the job's log (its state changes and each member's
// progress) after entry ID, oldest first; "after" in the reply is what to
// ask next, so a client never misses or repeats a line.
HttpAnswer GetJobLog(Call& call) {
  StateStore& store = call.host.store();
  auto job = store.FindJob(call.id);
  if (!job) return Unreadable(job.error());
  if (!job.value()) return Problem(404, "there is no job " + std::to_string(call.id));
  int64_t after = 0;
  size_t limit = kMaxPage;
  if (const std::string& a = call.Query("after"); !a.empty() && a != "0") {
    auto v = ParseId(a);
    if (!v) return Problem(400, "after must be the \"after\" of the reply before (0 from the start)");
    after = *v;
  }
  int64_t ignored = 0;
  if (std::string bad = ReadPage(call, ignored, limit); !bad.empty()) return Problem(400, bad);
  auto lines = store.AuditAfter(after, call.id, limit);
  if (!lines) return Unreadable(lines.error());
  json::array list;
  for (const AuditEntry& e : lines.value()) list.push_back(AuditView(e));
  const int64_t next = lines.value().empty() ? after : lines.value().back().id;
  return Json(200, {{"job", call.id}, {"lines", std::move(list)}, {"after", next}});
}

// What an audit entry is, as an event's type.
const char* EventKind(const std::string& action) {
  if (action == "job.host") return "member";
  if (action.starts_with("job.")) return "job";
  if (action.starts_with("maint.")) return "maintenance";
  if (action.starts_with("halt") || action == "resume") return "halt";
  if (action.starts_with("rule.")) return "rule";
  if (action.starts_with("alert.")) return "alert";
  return "audit";
}

// The audit trail as Server-Sent Events: each entry once, in order, its id
// the event's, so a client reconnecting with Last-Event-ID gets exactly
// what it missed; a heartbeat every 15 s.
class AuditFeed final : public EventFeed {
 public:
  AuditFeed(const StateStore& store, int64_t after) : store_(store), after_(after) {}
  bool Poll(std::string& out) override {
    auto entries = store_.AuditAfter(after_, 0, 500);
    if (!entries) {
      out += ": the state store cannot be read: " + entries.error().message + "\n\n";
      return true;
    }
    for (const AuditEntry& e : entries.value()) {
      out += "id: " + std::to_string(e.id) + "\nevent: " + EventKind(e.action) + "\ndata: " + JsonText(AuditView(e)) +
             "\n\n";
      after_ = e.id;
    }
    const auto now = std::chrono::steady_clock::now();
    if (!entries.value().empty()) {
      last_sent_ = now;
    } else if (now - last_sent_ >= std::chrono::seconds(15)) {
      out += "event: heartbeat\ndata: {\"at\":\"" + FormatUtc(NowSeconds()) + "\"}\n\n";
      last_sent_ = now;
    }
    return true;
  }

 private:
  const StateStore& store_;
  int64_t after_;
  std::chrono::steady_clock::time_point last_sent_ = std::chrono::steady_clock::now();
};

// Last-Event-ID (or ?after=): replays from there; neither: from now on.
HttpAnswer GetEvents(Call& call) {
  const StateStore& store = call.host.store();
  std::string from = call.x.Header("last-event-id");
  if (from.empty()) from = call.Query("after");
  int64_t after = 0;
  if (!from.empty() && from != "0") {
    auto v = ParseId(from);
    if (!v) return Problem(400, "Last-Event-ID must be the id of an event");
    after = *v;
  } else if (from.empty()) {
    auto newest = store.ListAudit({0, "", "", "", 1});
    if (!newest) return Unreadable(newest.error());
    after = newest.value().empty() ? 0 : newest.value().front().id;
  }
  HttpAnswer a;
  a.body = "retry: 2000\n\n";
  a.events = std::make_shared<AuditFeed>(store, after);
  return a;
}

// {"reason", "abort"}
HttpAnswer PostHalt(Call& call) {
  const json::value* abort = call.body.if_contains("abort");
  if (abort && !abort->is_bool()) return Problem(400, "\"abort\" must be true or false");
  const bool kill = abort && abort->as_bool();
  return Mutate(call, "halt", "", [&] {
    const Config& config = call.host.config();
    StateStore& store = call.host.store();
    if (auto set = store.SetHalt({call.Actor(), call.Reason(), NowSeconds(), kill}); !set) {
      return Problem(503, set.error().message + "; the halt was NOT recorded; to halt anyway: touch " +
                              config.halt_file);
    }
    call.host.Wake();
    auto record = store.ReadHalt();
    json::object doc;
    doc["result"] = std::string("halted: no automated action starts a drain or a step until resume; ") +
                    (kill ? "running steps are being killed, their hosts stay out of traffic"
                          : "running steps finish (abort kills them)");
    doc["halt"] = HaltView(CheckHalt(&store, config.halt_file), record ? record.value() : std::nullopt);
    return Json(200, doc);
  });
}

HttpAnswer PostResume(Call& call) {
  return Mutate(call, "resume", "", [&] {
    const Config& config = call.host.config();
    StateStore& store = call.host.store();
    auto was = store.ClearHalt(call.Actor());
    if (!was) return Problem(503, was.error().message);
    call.host.Wake();
    HaltCheck now = CheckHalt(&store, config.halt_file);
    if (now.halted) {
      return Problem(409, "the halt file " + config.halt_file + " still halts everything: remove it to resume");
    }
    json::object doc;
    doc["result"] = was.value() ? "resumed: the halt set by " + was.value()->who + " (" + was.value()->reason +
                                      ") is lifted"
                                : std::string("not halted: nothing to resume");
    doc["halt"] = HaltView(now, std::nullopt);
    return Json(200, doc);
  });
}

// A string or a list of strings under `key` into `out`; false: neither.
bool Strings(const json::object& body, const char* key, std::vector<std::string>& out) {
  const json::value* v = body.if_contains(key);
  if (!v) return true;
  if (v->is_string()) {
    out.emplace_back(v->as_string());
    return true;
  }
  if (!v->is_array()) return false;
  for (const json::value& item : v->as_array()) {
    if (!item.is_string()) return false;
    out.emplace_back(item.as_string());
  }
  return true;
}

// The options of `roll` from a body; the error's sentence, or "".
std::string ReadRoll(const json::object& body, RollOptions& options) {
  if (!Strings(body, "pool", options.pools) || !Strings(body, "pools", options.pools)) {
    return "\"pool\" is a pool name, \"pools\" a list of them";
  }
  if (options.pools.empty()) return "\"pool\" (or \"pools\") is required";
  const json::value* task = body.if_contains("task");
  if (!task || !task->is_string()) return "\"task\" is required: the name of a [[tasks]] entry";
  options.task = std::string(task->as_string());
  if (!Strings(body, "limit", options.limit)) return "\"limit\" is a list of member names or globs";
  if (const json::value* order = body.if_contains("order")) {
    if (!order->is_string()) return "\"order\" is config, reverse or name";
    options.order = std::string(order->as_string());
  }
  if (const json::value* mf = body.if_contains("max_failures")) {
    if (!mf->is_int64() || mf->as_int64() < 1 || mf->as_int64() > 1000) return "\"max_failures\" is a number 1-1000";
    options.max_failures = static_cast<int>(mf->as_int64());
  }
  return "";
}

// The first reply of `key` again (a client retrying after a timeout).
HttpAnswer Replay(const IdempotentReply& first) {
  HttpAnswer replay;
  replay.status = first.status;
  replay.body = first.body;
  replay.headers.emplace_back("Idempotent-Replayed", "true");
  boost::system::error_code ec;
  json::value doc = json::parse(replay.body, ec);
  if (!ec && doc.is_object() && doc.as_object().contains("location")) {
    replay.headers.emplace_back("Location", std::string(doc.as_object().at("location").as_string()));
  }
  return replay;
}

// {"pool" | "pools", "task", "limit", "order", "max_failures", "reason"}:
// one queued job per pool, for serve (as `roll --queue`; serve's preflight
// reads the live state when it starts the job).
HttpAnswer PostRoll(Call& call) {
  const Config& config = call.host.config();
  StateStore& store = call.host.store();
  RollOptions options;
  if (std::string bad = ReadRoll(call.body, options); !bad.empty()) return Problem(400, bad);
  // The same request again with the same key gets the first reply; the key
  // with another request is an error (nothing is queued twice).
  const std::string& key = call.x.Header("idempotency-key");
  if (key.size() > 200) return Problem(400, "an Idempotency-Key is at most 200 characters");
  const std::string fingerprint = call.token->name + " " + call.x.path + " " + json::serialize(call.body);
  if (!key.empty()) {
    auto seen = store.FindIdempotent(key);
    if (!seen) return Unreadable(seen.error());
    if (seen.value()) {
      if (seen.value()->fingerprint != fingerprint) {
        return Problem(422, "the Idempotency-Key was used for another request; nothing was queued");
      }
      return Replay(*seen.value());
    }
  }
  std::string target;
  for (const std::string& p : options.pools) target += (target.empty() ? "" : ",") + p;
  return Mutate(call, "roll", target, [&]() -> HttpAnswer {
    auto walks = roll_detail::ResolveWalks(config, options);
    if (!walks) return Problem(422, walks.error().message + "; nothing was queued");
    json::array jobs;
    std::string first_location;
    for (const roll_detail::PoolWalk& w : walks.value()) {
      Job job = MakeJob(NewJob{w.pool->name, options.task, TaskSteps(*w.task), w.spec.members, call.Actor(),
                               call.Reason(), options.max_failures, options.force_sessions, std::nullopt});
      auto added = store.AddJob(job);
      if (!added) return Problem(503, "cannot queue the job of pool " + w.pool->name + ": " + added.error().message);
      const std::string location = "/api/v1/jobs/" + std::to_string(added.value());
      if (first_location.empty()) first_location = location;
      jobs.push_back(json::object{{"id", added.value()}, {"pool", w.pool->name}, {"location", location},
                                  {"members", static_cast<int64_t>(w.spec.members.size())}});
    }
    call.host.Wake();
    HaltCheck halt = CheckHalt(&store, config.halt_file);
    json::object doc{{"jobs", std::move(jobs)}, {"location", first_location}};
    doc["halted"] = halt.halted ? json::value(halt.why + "; the jobs wait until the halt is lifted") : json::value(nullptr);
    HttpAnswer a = Json(202, doc);
    a.headers.emplace_back("Location", first_location);
    if (!key.empty()) {
      if (auto put = store.PutIdempotent({key, fingerprint, a.status, a.body, {}}); !put) {
        LogEvent(LogLevel::kError, "api.idempotency_lost", {{"request_id", call.x.request_id}, {"error", put.error().message}});
      }
    }
    return a;
  });
}

constexpr Route kRoutes[] = {
    {"GET", "/api/v1/status", GetStatus},
    {"GET", "/api/v1/pools", GetPools},
    {"GET", "/api/v1/pools/{name}", GetPool},
    {"GET", "/api/v1/plan", GetPlan},
    {"GET", "/api/v1/maintenance", GetMaintenance},
    {"GET", "/api/v1/audit", GetAudit},
    {"GET", "/api/v1/check", GetCheck},
    {"GET", "/api/v1/jobs", GetJobs},
    {"GET", "/api/v1/jobs/{id}", GetJob},
    {"GET", "/api/v1/jobs/{id}/log", GetJobLog},
    {"GET", "/api/v1/events", GetEvents},
    {"POST", "/api/v1/jobs/{id}/cancel", PostCancel},
    {"POST", "/api/v1/jobs/{id}/restore", PostRestore},
    {"POST", "/api/v1/jobs/{id}/retry", PostRetry},
    {"GET", "/api/v1/rules", GetRules},
    {"GET", "/api/v1/rules/{name}", GetRule},
    {"POST", "/api/v1/rules/{name}/reset", PostRuleReset},
    {"POST", "/api/v1/maintenance/start", PostMaintStart},
    {"POST", "/api/v1/maintenance/stop", PostMaintStop},
    {"POST", "/api/v1/halt", PostHalt},
    {"POST", "/api/v1/resume", PostResume},
    {"POST", "/api/v1/roll", PostRoll},
    {"POST", kAlertIntake.data(), PostAlertmanager, true},
};

// Whether `path` is `pattern`'s, its {id} (a positive number) into `id`.
bool Matches(std::string_view pattern, std::string_view path, int64_t& id, std::string& name) {
  while (!pattern.empty() || !path.empty()) {
    if (pattern.empty() || path.empty() || pattern.front() != '/' || path.front() != '/') return false;
    pattern.remove_prefix(1);
    path.remove_prefix(1);
    std::string_view want = pattern.substr(0, pattern.find('/'));
    std::string_view got = path.substr(0, path.find('/'));
    if (want == "{id}") {
      auto v = ParseId(got);
      if (!v) return false;
      id = *v;
    } else if (want == "{name}") {
      if (got.empty()) return false;
      name = std::string(got);
    } else if (want != got) {
      return false;
    }
    pattern.remove_prefix(want.size());
    path.remove_prefix(got.size());
  }
  return true;
}

}  // namespace

HttpAnswer Unreadable(const Error& e) { return Problem(503, "the state store cannot be read: " + e.message); }

std::optional<HttpAnswer> RefusedByHalt(Call& call) {
  HaltCheck halt = CheckHalt(&call.host.store(), call.host.config().halt_file);
  if (!halt.halted) return std::nullopt;
  return Problem(409, halt.why + "; nothing was changed");
}

int StatusOf(const Error& e) {
  switch (e.code) {
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kUsage:
    case ErrorKind::kRefused: return 409;
    case ErrorKind::kFailed: return 503;
  }
  return 503;
}

const Route* FindRoute(const std::string& method, const std::string& path, Call& call, std::string& allow) {
  allow.clear();
  for (const Route& r : kRoutes) {
    int64_t id = 0;
    std::string name;
    if (!Matches(r.pattern, path, id, name)) continue;
    call.route = r.pattern;
    if (method == r.method) {
      call.id = id;
      call.name = std::move(name);
      return &r;
    }
    allow += (allow.empty() ? "" : ", ") + std::string(r.method);
  }
  return nullptr;
}

}  // namespace caretaker::api_detail
