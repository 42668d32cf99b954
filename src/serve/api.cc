// See api.h. The gate every request passes before its route
// (api_routes.cc), and the audit around each change.
#include "src/serve/api.h"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/json.hpp>

#include "src/base/log.h"
#include "src/serve/api_call.h"

namespace caretaker {

namespace json = boost::json;
using api_detail::Call;

namespace {

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

bool IpLiteral(const std::string& host) {
  in_addr v4{};
  in6_addr v6{};
  return ::inet_pton(AF_INET, host.c_str(), &v4) == 1 || ::inet_pton(AF_INET6, host.c_str(), &v6) == 1;
}

// The host name of a Host header: "[::1]:80" -> "::1", "a.b:80" -> "a.b".
std::string HostName(std::string_view authority) {
  if (authority.starts_with('[')) {
    size_t close = authority.find(']');
    return std::string(authority.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
  }
  return std::string(authority.substr(0, authority.rfind(':')));
}

HttpAnswer Unauthorized(const std::string& detail, const std::string& challenge) {
  HttpAnswer a = Problem(401, detail);
  a.headers.emplace_back("WWW-Authenticate", challenge);
  return a;
}

}  // namespace

HttpAnswer Problem(int status, const std::string& detail) {
  HttpAnswer a = api_detail::Json(
      status, json::object{{"type", "about:blank"}, {"title", Title(status)}, {"status", status}, {"detail", detail}});
  a.content_type = "application/problem+json";
  a.detail = detail;
  return a;
}

namespace api_detail {

const std::string& Call::Query(const std::string& name) const {
  static const std::string kNone;
  auto it = x.query.find(name);
  return it == x.query.end() ? kNone : it->second;
}

HttpAnswer Json(int status, const json::object& body) {
  HttpAnswer a;
  a.status = status;
  a.body = json::serialize(body);
  return a;
}

HttpAnswer Mutate(Call& call, const std::string& action, const std::string& target,
                  const std::function<HttpAnswer()>& change) {
  StateStore& store = call.host.store();
  AuditEntry e;
  e.who = call.Actor();
  e.action = "api." + action;
  e.target = target;
  e.detail = call.Reason();
  e.role = std::string(ApiRoleName(call.token->role));
  e.remote = call.x.remote;
  e.request_id = call.x.request_id;
  auto id = store.Audit(std::move(e));
  if (!id) return Problem(503, "the audit trail cannot be written (" + id.error().message + "); nothing was changed");
  HttpAnswer a = change();
  const std::string result = a.status < 300 ? "ok" : (a.status == 409 ? "refused: " : "failed: ") + a.detail;
  if (auto set = store.SetAuditResult(id.value(), result); !set) {
    LogEvent(LogLevel::kError, "api.audit_result_lost",
             {{"request_id", call.x.request_id}, {"error", set.error().message}});
  }
  return a;
}

}  // namespace api_detail

HttpAnswer Api::Handle(const HttpExchange& x) {
  Call call{x, host_};
  HttpAnswer answer = Gate(call);
  ++requests_[{call.route, answer.status}];
  if (answer.status >= 500) {
    LogEvent(LogLevel::kError, "api.error",
             {{"route", call.route}, {"status", static_cast<int64_t>(answer.status)}, {"request_id", x.request_id},
              {"detail", answer.detail}});
  }
  return answer;
}

HttpAnswer Api::Gate(Call& call) {
  const HttpExchange& x = call.x;
  const ApiConfig& api = host_.config().api;
  // Requests meant for another site never get further: a Host that is not
  // an address, localhost or a configured name (DNS rebinding), and a
  // browser's cross-site request (no CORS here, ever).
  const std::string host = HostName(x.Header("host"));
  const bool host_ok = !host.empty() && (IpLiteral(host) || host == "localhost" ||
                                         std::find(api.hosts.begin(), api.hosts.end(), host) != api.hosts.end());
  if (!host_ok) return Problem(421, "the Host header names no address or name of this API ([api] hosts lists more)");
  const std::string& site = x.Header("sec-fetch-site");
  if (!site.empty() && site != "same-origin" && site != "none") return Problem(403, "cross-site requests are refused");
  if (const std::string& origin = x.Header("origin"); !origin.empty()) {
    std::string_view o = origin;
    size_t scheme = o.find("://");
    std::string_view authority = scheme == std::string_view::npos ? o : o.substr(scheme + 3);
    if (authority != x.Header("host")) return Problem(403, "cross-origin requests are refused");
  }

  if (x.path == "/healthz") {
    call.route = "/healthz";
    return api_detail::Json(200, {{"status", "ok"}});
  }
  if (x.path == "/readyz") {
    call.route = "/readyz";
    auto halt = host_.store().ReadHalt();
    if (!halt) return Problem(503, "the state store cannot be read: " + halt.error().message);
    return api_detail::Json(200, {{"status", "ready"}});
  }

  // Everything else needs a token, except /metrics when made public.
  const bool metrics = x.path == "/metrics";
  if (!metrics && !x.path.starts_with("/api/v1/")) return Problem(404, "no such resource");
  if (!metrics || !api.metrics_public) {
    const std::string& auth = x.Header("authorization");
    if (auth.empty()) {
      return Unauthorized("a bearer token is required (Authorization: Bearer TOKEN)", "Bearer realm=\"caretaker\"");
    }
    if (auth.size() > 7 && (auth.compare(0, 7, "Bearer ") == 0 || auth.compare(0, 7, "bearer ") == 0)) {
      call.token = FindApiToken(tokens_, std::string_view(auth).substr(7));
    }
    if (!call.token) {
      return Unauthorized("the token is not known", "Bearer realm=\"caretaker\", error=\"invalid_token\"");
    }
    if (call.token->role == ApiRole::kAlertmanager && x.path != api_detail::kAlertIntake) {
      return Problem(403, "the token " + call.token->name + " is an alertmanager token: it only posts alerts to " +
                              std::string(api_detail::kAlertIntake));
    }
  }
  if (metrics) {
    call.route = "/metrics";
    if (x.method != "GET") return Problem(405, "GET only");
    HttpAnswer a;
    a.content_type = "text/plain; version=0.0.4; charset=utf-8";
    a.body = host_.Metrics();
    return a;
  }

  std::string allow;
  const api_detail::Route* route = api_detail::FindRoute(x.method, x.path, call, allow);
  if (!route && allow.empty()) return Problem(404, "no such resource");
  if (!route) {
    HttpAnswer a = Problem(405, allow == "GET" ? "GET only: a read" : allow + " only");
    a.headers.emplace_back("Allow", allow);
    return a;
  }
  if (x.method == "POST") {
    std::string_view type = x.Header("content-type");
    type = type.substr(0, type.find(';'));
    while (type.ends_with(' ')) type.remove_suffix(1);
    if (type != "application/json") return Problem(415, "a POST must be Content-Type: application/json");
    if (call.token->role == ApiRole::kViewer) {
      return Problem(403, "the token " + call.token->name + " is a viewer: changes need an operator token");
    }
    // Alertmanager's notification is read by its route, and has no reason.
    if (route->alerts) return route->run(call);
    boost::system::error_code ec;
    json::value parsed = json::parse(x.body.empty() ? std::string_view("{}") : std::string_view(x.body), ec);
    if (ec || !parsed.is_object()) return Problem(400, "the body must be one JSON object");
    call.body = std::move(parsed.as_object());
    const json::value* reason = call.body.if_contains("reason");
    if (!reason || !reason->is_string() ||
        std::string_view(reason->as_string()).find_first_not_of(" \t\n") == std::string_view::npos) {
      return Problem(400, "\"reason\" is required: say why (it is written to the audit trail)");
    }
  }
  return route->run(call);
}

}  // namespace caretaker
