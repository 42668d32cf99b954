// The state store's Alertmanager alerts (alerts.h): delivery is at least
// once, so the same alert (fingerprint + startsAt) twice changes nothing; a
// resolved one stays resolved; each change has its audit entry, written in
// the same transaction; what is kept survives a reopen.
#include <catch2/catch.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "src/store/state_store.h"
#include "tests/unit/store_fixture.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using store_testing::Open;

const WallTime t0{std::chrono::milliseconds(1'796'000'000'123)};

AlertNotice Notice(const std::string& fingerprint, bool firing, WallTime starts = t0) {
  AlertNotice a;
  a.fingerprint = fingerprint;
  a.starts_at = starts;
  a.firing = firing;
  if (!firing) a.ends_at = starts + 5min;
  a.labels = {{"alertname", "MySQLReplicationLag"}, {"server", "db2"}};
  a.summary = "db2 lags";
  return a;
}

AuditEntry Actor() {
  AuditEntry e;
  e.who = "alertmanager-1 (api)";
  e.role = "alertmanager";
  e.remote = "127.0.0.1";
  e.request_id = "req-1";
  e.result = "ok";
  return e;
}

}  // namespace

TEST_CASE("an alert sent again, by a peer or a retry, is a duplicate: one audit entry, one alert", "[store][alerts]") {
  TempDir dir;
  auto store = Open(dir.path() + "/state.db");
  auto first = store->TakeAlerts({Notice("f1", true)}, t0 + 1s, Actor());
  REQUIRE(first);
  CHECK(first.value().firing == 1);
  auto peer = store->TakeAlerts({Notice("f1", true), Notice("f1", true)}, t0 + 2s, Actor());
  REQUIRE(peer);
  CHECK(peer.value().firing == 0);
  CHECK(peer.value().duplicates == 2);

  auto kept = store->ListAlerts();
  REQUIRE(kept);
  REQUIRE(kept.value().size() == 1);
  const StoredAlert& a = kept.value()[0];
  CHECK(a.alert.firing);
  CHECK(a.alert.starts_at == t0);
  CHECK(a.alert.labels.at("server") == "db2");
  CHECK(a.alert.summary == "db2 lags");
  CHECK(a.first_seen == t0 + 1s);
  CHECK(a.last_seen == t0 + 2s);  // seen again: not stale

  auto audit = store->ListAudit({0, "", "alert.", "", 10});
  REQUIRE(audit);
  REQUIRE(audit.value().size() == 1);
  const AuditEntry& e = audit.value()[0];
  CHECK(e.action == "alert.firing");
  CHECK(e.target == "f1");
  CHECK(e.who == "alertmanager-1 (api)");
  CHECK(e.role == "alertmanager");
  CHECK(e.remote == "127.0.0.1");
  CHECK(e.request_id == "req-1");
  // t0 is 1796000000.123 s: the startsAt to post a resolution with.
  CHECK(e.detail ==
        "{alertname=\"MySQLReplicationLag\", server=\"db2\"} startsAt 2026-11-30T00:53:20.123Z: db2 lags");
}

TEST_CASE("a resolved alert stays resolved, a late firing copy does not bring it back, a new startsAt does",
          "[store][alerts]") {
  TempDir dir;
  const std::string path = dir.path() + "/state.db";
  auto store = Open(path);
  REQUIRE(store->TakeAlerts({Notice("f1", true)}, t0 + 1s, Actor()));
  auto resolved = store->TakeAlerts({Notice("f1", false)}, t0 + 10min, Actor());
  REQUIRE(resolved);
  CHECK(resolved.value().resolved == 1);
  // The other peer's copy of the firing notification, arriving late.
  auto late = store->TakeAlerts({Notice("f1", true)}, t0 + 11min, Actor());
  REQUIRE(late);
  CHECK(late.value().duplicates == 1);
  auto kept = store->ListAlerts();
  REQUIRE(kept.value().size() == 1);
  CHECK_FALSE(kept.value()[0].alert.firing);
  REQUIRE(kept.value()[0].resolved_at);
  CHECK(*kept.value()[0].resolved_at == t0 + 10min);
  REQUIRE(kept.value()[0].alert.ends_at);
  CHECK(*kept.value()[0].alert.ends_at == t0 + 5min);

  // It fires again: Alertmanager gives it a new startsAt, the same fingerprint.
  auto again = store->TakeAlerts({Notice("f1", true, t0 + 1h)}, t0 + 1h, Actor());
  REQUIRE(again);
  CHECK(again.value().firing == 1);
  store.reset();
  store = Open(path);  // serve restarted: kept
  kept = store->ListAlerts();
  REQUIRE(kept.value().size() == 2);
  CHECK_FALSE(kept.value()[0].alert.firing);
  CHECK(kept.value()[1].alert.firing);
  CHECK(kept.value()[1].alert.starts_at == t0 + 1h);
  auto audit = store->ListAudit({0, "", "alert.", "", 10});
  REQUIRE(audit.value().size() == 3);  // firing, resolved, firing: the copies wrote none
  CHECK(audit.value()[1].action == "alert.resolved");
}

TEST_CASE("a week on, resolved alerts and replaced ones are dropped, one still firing is kept however silent",
          "[store][alerts]") {
  TempDir dir;
  auto store = Open(dir.path() + "/state.db");
  auto taken = store->TakeAlerts({Notice("f1", false), Notice("f2", true), Notice("f3", true)}, t0, Actor());
  REQUIRE(taken);
  CHECK(taken.value().resolved == 1);  // first seen resolved: kept resolved
  CHECK(taken.value().firing == 2);
  // f3 fires again (its resolution was lost): the older one is replaced.
  REQUIRE(store->TakeAlerts({Notice("f3", true, t0 + 1h)}, t0 + 1h, Actor()));
  REQUIRE(store->TakeAlerts({Notice("f4", true)}, t0 + 24h * 7 + 1s, Actor()));
  auto kept = store->ListAlerts();
  REQUIRE(kept);
  std::vector<std::string> left;
  for (const StoredAlert& a : kept.value()) left.push_back(a.alert.fingerprint + "@" + (a.alert.starts_at == t0 ? "t0" : "later"));
  std::sort(left.begin(), left.end());
  CHECK(left == std::vector<std::string>{"f2@t0", "f3@later", "f4@t0"});
}

}  // namespace caretaker
