// Alertmanager's intake (api_call.h kAlertIntake): the webhook's payload
// (version 4), read whole before anything is kept, then every alert
// journaled in one transaction — with an audit entry for each one new or
// resolved — before the 2xx that tells Alertmanager it was delivered.
// Delivery is at least once (HA peers both send, failures are retried), so
// an alert already known (fingerprint + startsAt) changes nothing.
#include <boost/json.hpp>

#include "src/serve/api_call.h"
#include "src/walk/alert_reply.h"

namespace caretaker::api_detail {

HttpAnswer PostAlertmanager(Call& call) {
  auto payload = ParseAlertmanagerPayload(call.x.body);
  if (!payload) {
    // 4xx: Alertmanager does not send it again; the same body would fail again.
    return Problem(400, "not Alertmanager's webhook payload: " + payload.error().message + "; nothing was taken");
  }
  AuditEntry actor;
  actor.who = call.Actor();
  actor.role = std::string(ApiRoleName(call.token->role));
  actor.remote = call.x.remote;
  actor.request_id = call.x.request_id;
  actor.result = "ok";
  auto taken = call.host.store().TakeAlerts(payload.value().alerts, WallNow(), actor);
  // 5xx: Alertmanager sends it again.
  if (!taken) return Problem(503, "the alerts cannot be journaled: " + taken.error().message + "; nothing was taken");
  call.host.AlertsTaken(taken.value());
  return Json(200, {{"alerts", static_cast<int64_t>(payload.value().alerts.size())},
                    {"firing", static_cast<int64_t>(taken.value().firing)},
                    {"resolved", static_cast<int64_t>(taken.value().resolved)},
                    {"duplicates", static_cast<int64_t>(taken.value().duplicates)},
                    {"truncated", payload.value().truncated}});
}

}  // namespace caretaker::api_detail
