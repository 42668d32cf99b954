// Inside the API (api.cc, api_routes.cc): one request on its way through the
// gate to its route, and what routes share. Not for use outside src/serve/api*.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "src/serve/api.h"

namespace caretaker::api_detail {

struct Call {
  const HttpExchange& x;
  ApiHost& host;
  std::string route = "other";  // the route's pattern, for metrics
  std::optional<ApiToken> token = {};
  boost::json::object body = {};  // of a POST: an object with a non-empty "reason"
  int64_t id = 0;               // the {id} of the route's pattern
  std::string name = {};        // its {name}

  std::string Actor() const { return (token ? token->name : std::string("?")) + " (api)"; }
  std::string Reason() const { return std::string(body.at("reason").as_string()); }
  // A query parameter, "" when absent.
  const std::string& Query(const std::string& name) const;
};

HttpAnswer Json(int status, const boost::json::object& body);

// Runs `change` between its audit entry "api.<action>" (actor, role,
// address, request id, target, reason), written first — 503 and nothing
// changed when it cannot be — and its result, written before the reply.
HttpAnswer Mutate(Call& call, const std::string& action, const std::string& target,
                  const std::function<HttpAnswer()>& change);

// 503: the state store could not be read.
HttpAnswer Unreadable(const Error& e);
// 409 with the halt's sentence while halted (a change serve would walk is
// refused then, as the CLI refuses it); nullopt otherwise.
std::optional<HttpAnswer> RefusedByHalt(Call& call);
// The status of a change refused or failed with `e`: kNotFound 404,
// kUsage and kRefused 409 (with the CLI's sentence), kFailed 503.
int StatusOf(const Error& e);

// api_pools.cc: GET /api/v1/pools, /api/v1/pools/{name}, /api/v1/plan.
HttpAnswer GetPools(Call& call);
HttpAnswer GetPool(Call& call);
HttpAnswer GetPlan(Call& call);
// api_rules.cc: GET /api/v1/rules, /api/v1/rules/{name}; POST
// /api/v1/rules/{name}/reset.
HttpAnswer GetRules(Call& call);
HttpAnswer GetRule(Call& call);
HttpAnswer PostRuleReset(Call& call);
// api_jobs.cc: POST /api/v1/jobs/{id}/cancel, /restore, /retry.
HttpAnswer PostCancel(Call& call);
HttpAnswer PostRestore(Call& call);
HttpAnswer PostRetry(Call& call);
// api_maint.cc: POST /api/v1/maintenance/start, /api/v1/maintenance/stop.
HttpAnswer PostMaintStart(Call& call);
HttpAnswer PostMaintStop(Call& call);

// api_alerts.cc: POST /api/v1/alerts/alertmanager (kAlertIntake), the
// body Alertmanager's webhook sends (no reason: its alerts are journaled).
inline constexpr std::string_view kAlertIntake = "/api/v1/alerts/alertmanager";
HttpAnswer PostAlertmanager(Call& call);

struct Route {
  const char* method;
  const char* pattern;  // "/api/v1/jobs/{id}/cancel", "/api/v1/pools/{name}"
  HttpAnswer (*run)(Call&);
  // Alertmanager's intake: for operator and alertmanager tokens, its body
  // read by the route itself.
  bool alerts = false;
};

// The route of `path` for `method`. nullptr with `allow` set: the path is a
// route's, for another method (405); both empty: no such path (404). An
// {id} that is not a positive number is no such path; a {name} is any
// non-empty segment.
const Route* FindRoute(const std::string& method, const std::string& path, Call& call, std::string& allow);

}  // namespace caretaker::api_detail
