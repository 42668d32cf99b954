// See api.h.
#include "src/serve/api.h"

#include <arpa/inet.h>

#include <boost/json.hpp>
#include <charconv>
#include <optional>

#include "src/base/log.h"
#include "src/run/job_actions.h"
#include "src/run/job_follower.h"
#include "src/run/roll_setup.h"
#include "src/run/views.h"
#include "src/store/state_open.h"
#include "src/walk/job_run.h"

namespace caretaker {

namespace json = boost::json;

namespace {

constexpr size_t kMaxPage = 1000;

const char* Title(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 415: return "Unsupported Media Type";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Error";
  }
}

HttpAnswer Json(int status, const json::object& body) {
  HttpAnswer a;
  a.status = status;
  a.body = json::serialize(body);
  return a;
}

bool IpLiteral(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// The host name of a Host header or an Origin's authority: "[::1]:80" -> "::1".
std::string HostName(std::string_view authority) {
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    return std::string(authority.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  return std::string(authority.substr(0, authority.rfind(':')));
}

std::optional<int64_t> ParseId(std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v <= 0) return std::nullopt;
  return v;
}

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash);
  }
  return out;
}

}  // namespace

HttpAnswer Problem(int status, const std::string& detail) {
  HttpAnswer a = Json(status, json::object{{"type", "about:blank"},
                                           {"title", Title(status)},
                                           {"status", status},
                                           {"detail", detail}});
  a.content_type = "application/problem+json";
  return a;
}

struct Api::Call {
  const HttpExchange& x;
  std::string route = "other";  // the pattern, for metrics
  std::optional<ApiToken> token;
  json::object body;
  std::vector<std::string_view> segments;

  std::string Actor() const { return (token ? token->name : std::string("?")) + " (api)"; }
  const std::string& Query(const std::string& name) const {
    static const std::string kNone;
    auto it = x.query.find(name);
    return it == x.query.end() ? kNone : it->second;
  }
};

HttpAnswer Api::Handle(const HttpExchange& x) {
  Call call{x};
  HttpAnswer answer = Route(call);
  ++requests_[{call.route, answer.status}];
  if (answer.status >= 500) {
    LogEvent(LogLevel::kError, "api.error",
             {{"route", call.route}, {"status", static_cast<int64_t>(answer.status)}, {"request_id", x.request_id}});
  }
  return answer;
}

HttpAnswer Api::Route(Call& call) {
  const HttpExchange& x = call.x;
  const Config& config = host_.config();
  StateStore& store = host_.store();
  // Requests meant for another site never get further: a Host that is not
  // an address, localhost or a configured name (DNS rebinding), and a
  // browser's cross-site request (no CORS here, ever).
  const std::string host = HostName(x.Header("host"));
  const bool host_ok = !host.empty() && (IpLiteral(host) || host == "localhost" ||
                                         std::find(config.api.hosts.begin(), config.api.hosts.end(), host) !=
                                             config.api.hosts.end());
  if (!host_ok) return Problem(421, "the Host header names no address or name of this API ([api] hosts lists more)");
  const std::string& site = x.Header("sec-fetch-site");
  if (!site.empty() && site != "same-origin" && site != "none") return Problem(403, "cross-site requests are refused");
  if (const std::string& origin = x.Header("origin"); !origin.empty()) {
    std::string_view o = origin;
    size_t scheme = o.find("://");
    std::string_view authority = scheme == std::string_view::npos ? o : o.substr(scheme + 3);
    if (authority != x.Header("host")) return Problem(403, "cross-origin requests are refused");
  }

  call.segments = Segments(x.path);
  const auto& seg = call.segments;
  const bool get = x.method == "GET" || x.method == "HEAD";
  const bool post = x.method == "POST";

  if (x.path == "/healthz") {
    call.route = "/healthz";
    return Json(200, {{"status", "ok"}});
  }
  if (x.path == "/readyz") {
    call.route = "/readyz";
    auto halt = store.ReadHalt();
    if (!halt) return Problem(503, "the state store cannot be read: " + halt.error().message);
    return Json(200, {{"status", "ready"}});
  }

  // Everything else needs a token, except /metrics when made public.
  const bool metrics = x.path == "/metrics";
  if (!metrics && (seg.size() < 2 || seg[0] != "api" || seg[1] != "v1")) return Problem(404, "no such resource");
  if (!metrics || !config.api.metrics_public) {
    const std::string& auth = x.Header("authorization");
    if (auth.empty()) {
      HttpAnswer a = Problem(401, "a bearer token is required (Authorization: Bearer TOKEN)");
      a.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"caretaker\"");
      return a;
    }
    if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
      call.token = FindApiToken(tokens_, std::string_view(auth).substr(7));
    }
    if (!call.token) {
      HttpAnswer a = Problem(401, "the token is not known");
      a.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"caretaker\", error=\"invalid_token\"");
      return a;
    }
  }
  if (metrics) {
    call.route = "/metrics";
    if (!get) return Problem(405, "GET only");
    HttpAnswer a;
    a.content_type = "text/plain; version=0.0.4; charset=utf-8";
    a.body = host_.Metrics();
    return a;
  }

  if (post) {
    std::string_view type = x.Header("content-type");
    type = type.substr(0, type.find(';'));
    while (type.ends_with(' ')) type.remove_suffix(1);
    if (type != "application/json") return Problem(415, "a POST must be Content-Type: application/json");
    if (call.token->role != ApiRole::kOperator) {
      return Problem(403, "the token " + call.token->name + " is a viewer: changes need an operator token");
    }
    boost::system::error_code ec;
    json::value parsed = json::parse(x.body.empty() ? std::string_view("{}") : std::string_view(x.body), ec);
    if (ec || !parsed.is_object()) return Problem(400, "the body must be one JSON object");
    call.body = std::move(parsed.as_object());
    const json::value* reason = call.body.if_contains("reason");
    if (!reason || !reason->is_string() || reason->as_string().empty() ||
        std::string_view(reason->as_string()).find_first_not_of(" \t\n") == std::string_view::npos) {
      return Problem(400, "\"reason\" is required: say why (it is written to the audit trail)");
    }
  } else if (!get) {
    return Problem(405, "GET for reads, POST for changes");
  }

  // The change's audit entry, written before it is made; its result after.
  auto audit_first = [&](const std::string& action, const std::string& target) -> Result<int64_t> {
    AuditEntry e;
    e.who = call.Actor();
    e.action = "api." + action;
    e.target = target;
    e.detail = std::string(call.body.at("reason").as_string());
    e.role = std::string(ApiRoleName(call.token->role));
    e.remote = x.remote;
    e.request_id = x.request_id;
    return store.Audit(std::move(e));
  };
  auto mutate = [&](const std::string& action, const std::string& target,
                    const std::function<HttpAnswer()>& change) -> HttpAnswer {
    auto id = audit_first(action, target);
    if (!id) return Problem(503, "the audit trail cannot be written (" + id.error().message + "); nothing was changed");
    HttpAnswer a = change();
    std::string result = a.status < 300 ? "ok" : (a.status == 409 ? "refused: " : "failed: ");
    if (a.status >= 300) {
      boost::system::error_code ec;
      json::value p = json::parse(a.body, ec);
      if (!ec && p.is_object() && p.as_object().contains("detail")) result += p.as_object().at("detail").as_string();
    }
    if (auto set = store.SetAuditResult(id.value(), result); !set) {
      LogEvent(LogLevel::kError, "api.audit_result_lost", {{"request_id", x.request_id}, {"error", set.error().message}});
    }
    return a;
  };
  const std::string reason = post ? std::string(call.body.at("reason").as_string()) : "";

  // GET /api/v1/status
  if (seg.size() == 3 && seg[2] == "status") {
    call.route = "/api/v1/status";
    if (!get) return Problem(405, "GET only");
    auto halt = store.ReadHalt();
    HaltCheck check = CheckHalt(&store, config.halt_file);
    auto records = store.List();
    if (!records) return Problem(503, "the state store cannot be read: " + records.error().message);
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
    for (const auto& [id, pool] : host_.Running()) {
      if (auto job = store.FindJob(id); job && job.value()) running.push_back(JobView(config, store, *job.value()));
    }
    return Json(200, {{"halt", HaltView(check, halt ? halt.value() : std::nullopt)},
                      {"pools", std::move(pools)},
                      {"running_jobs", std::move(running)},
                      {"out_of_traffic", static_cast<int64_t>(records.value().size())},
                      {"config", config.path}});
  }

  // GET /api/v1/maintenance
  if (seg.size() == 3 && seg[2] == "maintenance") {
    call.route = "/api/v1/maintenance";
    if (!get) return Problem(405, "GET only");
    auto records = store.List();
    if (!records) return Problem(503, "the state store cannot be read: " + records.error().message);
    const SysSeconds now = NowSeconds();
    json::array list;
    for (const MaintRecord& r : records.value()) list.push_back(RecordView(r, now));
    return Json(200, {{"now", FormatUtc(now)}, {"maintenance", std::move(list)}});
  }

  // GET /api/v1/audit?who=&action=&target=&before=&limit=
  if (seg.size() == 3 && seg[2] == "audit") {
    call.route = "/api/v1/audit";
    if (!get) return Problem(405, "GET only");
    AuditQuery q;
    q.who = call.Query("who");
    q.action = call.Query("action");
    q.target = call.Query("target");
    if (const std::string& b = call.Query("before"); !b.empty()) {
      auto v = ParseId(b);
      if (!v) return Problem(400, "before must be an audit entry id");
      q.before = *v;
    }
    if (const std::string& l = call.Query("limit"); !l.empty()) {
      auto v = ParseId(l);
      if (!v || *v > static_cast<int64_t>(kMaxPage)) return Problem(400, "limit must be 1-1000");
      q.limit = static_cast<size_t>(*v);
    }
    auto entries = store.ListAudit(q);
    if (!entries) return Problem(503, "the audit trail cannot be read: " + entries.error().message);
    json::array list;
    for (const AuditEntry& e : entries.value()) list.push_back(AuditView(e));
    json::object doc{{"audit", std::move(list)}};
    const bool full = entries.value().size() == q.limit && !entries.value().empty();
    doc["next"] = full ? json::value(entries.value().back().id) : json::value(nullptr);
    return Json(200, doc);
  }

  // GET /api/v1/jobs?state=&pool=&before=&limit=
  if (seg.size() == 3 && seg[2] == "jobs") {
    call.route = "/api/v1/jobs";
    if (!get) return Problem(405, "GET only");
    JobQuery q;
    q.state = call.Query("state");
    q.pool = call.Query("pool");
    if (!q.state.empty() && std::find(std::begin(kJobStates), std::end(kJobStates), q.state) == std::end(kJobStates)) {
      return Problem(400, "state must be one of queued, running, paused, done, failed, stopped, cancelled, restored");
    }
    if (const std::string& b = call.Query("before"); !b.empty()) {
      auto v = ParseId(b);
      if (!v) return Problem(400, "before must be a job id");
      q.before = *v;
    }
    if (const std::string& l = call.Query("limit"); !l.empty()) {
      auto v = ParseId(l);
      if (!v || *v > static_cast<int64_t>(kMaxPage)) return Problem(400, "limit must be 1-1000");
      q.limit = static_cast<size_t>(*v);
    }
    auto jobs = store.ListJobs(q);
    if (!jobs) return Problem(503, "the state store cannot be read: " + jobs.error().message);
    auto records = store.List();
    json::array list;
    for (Job& job : jobs.value()) {
      if (records) MarkOutFromRecords(records.value(), job);
      list.push_back(JobView(config, store, job));
    }
    json::object doc{{"jobs", std::move(list)}};
    const bool full = jobs.value().size() == q.limit && !jobs.value().empty();
    doc["next"] = full ? json::value(jobs.value().back().id) : json::value(nullptr);
    return Json(200, doc);
  }

  // /api/v1/jobs/{id} and /api/v1/jobs/{id}/cancel
  if (seg.size() >= 4 && seg.size() <= 5 && seg[2] == "jobs") {
    auto id = ParseId(seg[3]);
    call.route = seg.size() == 4 ? "/api/v1/jobs/{id}" : "/api/v1/jobs/{id}/" + std::string(seg[4]);
    if (seg.size() == 5 && seg[4] != "cancel") {
      call.route = "other";
      return Problem(404, "no such resource");
    }
    if (!id) return Problem(404, "a job id is a positive number");
    if (seg.size() == 4) {
      if (!get) return Problem(405, "GET only");
      auto job = store.FindJob(*id);
      if (!job) return Problem(503, "the state store cannot be read: " + job.error().message);
      if (!job.value()) return Problem(404, "there is no job " + std::to_string(*id));
      if (auto records = store.List(); records) MarkOutFromRecords(records.value(), *job.value());
      return Json(200, JobView(config, store, *job.value()));
    }
    if (!post) return Problem(405, "POST only");
    return mutate("job.cancel", "job " + std::to_string(*id), [&] {
      auto cancelled = CancelJob(config, store, *id, call.Actor());
      if (!cancelled) {
        const Error& e = cancelled.error();
        if (e.message.starts_with("there is no job")) return Problem(404, e.message);
        return Problem(e.code == ErrorKind::kUsage || e.code == ErrorKind::kRefused ? 409 : 503, e.message);
      }
      host_.Wake();
      json::array left;
      for (const MaintRecord& r : cancelled.value().left_out) left.emplace_back(LeftOutSentence(r));
      return Json(200, {{"result", cancelled.value().text}, {"left_out", std::move(left)}});
    });
  }

  // POST /api/v1/halt {"reason", "abort"} and /api/v1/resume {"reason"}
  if (seg.size() == 3 && (seg[2] == "halt" || seg[2] == "resume")) {
    const bool halt = seg[2] == "halt";
    call.route = halt ? "/api/v1/halt" : "/api/v1/resume";
    if (!post) return Problem(405, "POST only");
    const json::value* abort = call.body.if_contains("abort");
    if (abort && !abort->is_bool()) return Problem(400, "\"abort\" must be true or false");
    return mutate(halt ? "halt" : "resume", "", [&] {
      if (halt) {
        const bool kill = abort && abort->as_bool();
        auto set = store.SetHalt({call.Actor(), reason, NowSeconds(), kill});
        if (!set) {
          return Problem(503, set.error().message + "; the halt was NOT recorded; to halt anyway: touch " +
                                  config.halt_file);
        }
        host_.Wake();
        auto record = store.ReadHalt();
        json::object doc;
        doc["result"] = std::string("halted: no automated action starts a drain or a step until resume; ") +
                        (kill ? "running steps are being killed, their hosts stay out of traffic"
                              : "running steps finish (abort kills them)");
        doc["halt"] = HaltView(CheckHalt(&store, config.halt_file), record ? record.value() : std::nullopt);
        return Json(200, doc);
      }
      auto was = store.ClearHalt(call.Actor());
      if (!was) return Problem(503, was.error().message);
      host_.Wake();
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

  // POST /api/v1/roll {"pool" | "pools", "task", "limit", "order", "max_failures", "reason"}
  if (seg.size() == 3 && seg[2] == "roll") {
    call.route = "/api/v1/roll";
    if (!post) return Problem(405, "POST only");
    RollOptions options;
    auto strings = [&](const char* key, std::vector<std::string>& out) -> bool {
      const json::value* v = call.body.if_contains(key);
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
    };
    if (!strings("pool", options.pools) || !strings("pools", options.pools)) {
      return Problem(400, "\"pool\" is a pool name, \"pools\" a list of them");
    }
    if (options.pools.empty()) return Problem(400, "\"pool\" (or \"pools\") is required");
    const json::value* task = call.body.if_contains("task");
    if (!task || !task->is_string()) return Problem(400, "\"task\" is required: the name of a [[tasks]] entry");
    options.task = std::string(task->as_string());
    if (!strings("limit", options.limit)) return Problem(400, "\"limit\" is a list of member names or globs");
    if (const json::value* order = call.body.if_contains("order")) {
      if (!order->is_string()) return Problem(400, "\"order\" is config, reverse or name");
      options.order = std::string(order->as_string());
    }
    if (const json::value* mf = call.body.if_contains("max_failures")) {
      if (!mf->is_int64() || mf->as_int64() < 1 || mf->as_int64() > 1000) {
        return Problem(400, "\"max_failures\" is a number 1-1000");
      }
      options.max_failures = static_cast<int>(mf->as_int64());
    }
    // The same request again with the same key gets the first reply; the
    // key with another request is an error (nothing is queued twice).
    const std::string& key = x.Header("idempotency-key");
    if (key.size() > 200) return Problem(400, "an Idempotency-Key is at most 200 characters");
    const std::string fingerprint = call.token->name + " " + x.path + " " + json::serialize(call.body);
    if (!key.empty()) {
      auto seen = store.FindIdempotent(key);
      if (!seen) return Problem(503, "the state store cannot be read: " + seen.error().message);
      if (seen.value()) {
        if (seen.value()->fingerprint != fingerprint) {
          return Problem(422, "the Idempotency-Key was used for another request; nothing was queued");
        }
        HttpAnswer replay;
        replay.status = seen.value()->status;
        replay.body = seen.value()->body;
        replay.headers.emplace_back("Idempotent-Replayed", "true");
        boost::system::error_code ec;
        json::value first = json::parse(replay.body, ec);
        if (!ec && first.is_object() && first.as_object().contains("location")) {
          replay.headers.emplace_back("Location", std::string(first.as_object().at("location").as_string()));
        }
        return replay;
      }
    }
    std::string target;
    for (const std::string& p : options.pools) target += (target.empty() ? "" : ",") + p;
    return mutate("roll", target, [&]() -> HttpAnswer {
      auto walks = roll_detail::ResolveWalks(config, options);
      if (!walks) return Problem(422, walks.error().message + "; nothing was queued");
      json::array jobs;
      std::string first_location;
      for (const roll_detail::PoolWalk& w : walks.value()) {
        Job job = MakeJob(NewJob{w.pool->name, options.task, TaskSteps(*w.task), w.spec.members, call.Actor(),
                                 reason, options.max_failures, options.force_sessions, std::nullopt});
        auto added = store.AddJob(job);
        if (!added) return Problem(503, "cannot queue the job of pool " + w.pool->name + ": " + added.error().message);
        const std::string location = "/api/v1/jobs/" + std::to_string(added.value());
        if (first_location.empty()) first_location = location;
        jobs.push_back(json::object{{"id", added.value()}, {"pool", w.pool->name}, {"location", location},
                                    {"members", static_cast<int64_t>(w.spec.members.size())}});
      }
      host_.Wake();
      HaltCheck halt = CheckHalt(&store, config.halt_file);
      json::object doc{{"jobs", std::move(jobs)}, {"location", first_location}};
      doc["halted"] = halt.halted ? json::value(halt.why + "; the jobs wait until the halt is lifted")
                                  : json::value(nullptr);
      HttpAnswer a = Json(202, doc);
      a.headers.emplace_back("Location", first_location);
      if (!key.empty()) {
        auto put = store.PutIdempotent({key, fingerprint, a.status, a.body, {}});
        if (!put) {
          LogEvent(LogLevel::kError, "api.idempotency_lost", {{"request_id", x.request_id}, {"error", put.error().message}});
        }
      }
      return a;
    });
  }

  return Problem(404, "no such resource");
}

}  // namespace caretaker
