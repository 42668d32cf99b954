// Alerts Alertmanager sent to serve's intake (POST /api/v1/alerts/alertmanager),
// as the state store keeps them for rules of source = "alertmanager".
//
// Delivery is at least once: both peers of an HA pair send every
// notification, and a failed one is sent again. An alert is known by its
// fingerprint and startsAt together (alertmanager#4108): the same pair again
// is a duplicate; a resolved one stays resolved (a "firing" copy that
// arrives late does not bring it back); a new startsAt is a new alert.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src/base/result.h"
#include "src/base/time.h"

namespace caretaker {

struct AlertNotice {
  std::string fingerprint;
  WallTime starts_at{};
  bool firing = true;  // "firing" or "resolved"
  std::optional<WallTime> ends_at;  // absent: Alertmanager's zero time (no end known)
  std::map<std::string, std::string> labels;
  std::string summary;  // annotations.summary (or description), for messages; may be ""
};

struct StoredAlert {
  AlertNotice alert;
  WallTime first_seen{};  // when the intake first took it
  WallTime last_seen{};   // when a notification last carried it
  std::optional<WallTime> resolved_at;  // when the intake took it resolved
};

// What one notification changed: alerts new (firing, or resolved when
// first seen), alerts it resolved, and copies of what the store knew already
// (a peer's duplicate, a retry, a repeat, a late "firing" of a resolved one).
struct AlertIntake {
  size_t firing = 0;
  size_t resolved = 0;
  size_t duplicates = 0;
};

// Where rules of source = "alertmanager" read the alerts kept (the state
// store; a fake in tests).
class AlertBook {
 public:
  virtual ~AlertBook() = default;
  // Every alert kept, oldest first.
  virtual Result<std::vector<StoredAlert>> ListAlerts() const = 0;
};

}  // namespace caretaker
