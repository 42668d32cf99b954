// Alertmanager's webhook payloads read, and which alerts are a member's
// (src/walk/alert_reply.h), on bodies a real Alertmanager 0.25 sent
// (tests/fixtures/alertmanager-0.25; its README says how).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>

#include "src/config/rule_config.h"
#include "src/walk/alert_reply.h"

namespace caretaker {
namespace {

std::string Fixture(const std::string& name) {
  const std::string path = std::string(CARETAKER_FIXTURES_DIR) + "/alertmanager-0.25/" + name + ".json";
  std::ifstream file(path, std::ios::binary);
  if (!file) FAIL("missing fixture " << path);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

WallTime At(const char* rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  REQUIRE(t);
  return *t;
}

}  // namespace

TEST_CASE("Alertmanager's webhook payloads, as a real one sends them", "[alerts]") {
  auto firing = ParseAlertmanagerPayload(Fixture("firing"));
  REQUIRE(firing);
  CHECK(firing.value().receiver == "caretaker");
  CHECK(firing.value().group_key == "{}:{alertname=\"MySQLReplicationLag\"}");
  CHECK(firing.value().truncated == 0);
  REQUIRE(firing.value().alerts.size() == 2);
  const AlertNotice& db2 = firing.value().alerts[0];
  CHECK(db2.firing);
  CHECK(db2.fingerprint == "fc7ec46d5e7144d0");
  CHECK(db2.labels.at("server") == "db2");
  CHECK(db2.labels.at("instance") == "db2:9104");
  CHECK(db2.summary == "db2 lags 120 s behind its primary");
  CHECK_FALSE(db2.ends_at);  // Go's zero time: no end
  CHECK(db2.starts_at == At("2026-12-08T00:46:50.695Z"));  // nanoseconds cut to the millisecond

  auto described = ParseAlertmanagerPayload(Fixture("firing-with-ends"));
  REQUIRE(described);
  CHECK(described.value().alerts[0].summary == "disk 97% full");  // no summary: the description

  auto resolved = ParseAlertmanagerPayload(Fixture("one-resolved"));
  REQUIRE(resolved);
  REQUIRE(resolved.value().alerts.size() == 2);
  const AlertNotice& gone = resolved.value().alerts[0];
  CHECK_FALSE(gone.firing);
  CHECK(gone.fingerprint == db2.fingerprint);
  CHECK(gone.starts_at == db2.starts_at);  // the same alert: the intake's key
  REQUIRE(gone.ends_at);
  CHECK(*gone.ends_at == At("2026-12-08T00:47:06Z"));
  CHECK(resolved.value().alerts[1].firing);

  auto truncated = ParseAlertmanagerPayload(Fixture("truncated"));
  REQUIRE(truncated);
  CHECK(truncated.value().truncated == 1);
  CHECK(truncated.value().alerts.size() == 1);
}

TEST_CASE("a long summary is cut before a UTF-8 character, never inside one", "[alerts]") {
  const std::string summary = std::string(499, 'a') + "\xc3\xa9 and more";  // an e-acute across byte 500
  auto p = ParseAlertmanagerPayload(
      R"({"version":"4","alerts":[{"status":"firing","fingerprint":"f","startsAt":"2026-12-08T00:00:00Z",)"
      R"("labels":{"server":"db1"},"annotations":{"summary":")" + summary + R"("}}]})");
  REQUIRE(p);
  CHECK(p.value().alerts[0].summary == std::string(499, 'a'));
}

TEST_CASE("RFC 3339 times: fractions, offsets, and what is not one", "[alerts]") {
  CHECK(At("2026-12-08T01:46:50+01:00") == At("2026-12-08T00:46:50Z"));
  CHECK(At("2026-12-07T23:16:50-01:30") == At("2026-12-08T00:46:50Z"));
  CHECK(At("2026-12-08T00:46:50.5Z") - At("2026-12-08T00:46:50Z") == Millis(500));
  CHECK(At("0001-01-01T00:00:00Z").time_since_epoch() < Millis(0));
  for (const char* bad : {"", "2026-12-08", "2026-12-08T00:46:50", "2026-13-08T00:46:50Z", "2026-02-30T00:00:00Z",
                          "2026-12-08T24:00:00Z", "2026-12-08T00:46:50.Z", "2026-12-08T00:46:50Zjunk",
                          "2026-12-08T00:46:50+0100", "2026-12-08 00:46:50Z"}) {
    INFO(bad);
    CHECK_FALSE(ParseRfc3339(bad));
  }
}

TEST_CASE("a payload that is not Alertmanager's is refused whole, naming the field", "[alerts]") {
  const std::string ok_alert =
      R"({"status":"firing","labels":{"alertname":"A"},"annotations":{},"startsAt":"2026-12-08T00:00:00Z",)"
      R"("endsAt":"0001-01-01T00:00:00Z","fingerprint":"f1"})";
  struct Case {
    std::string body;
    const char* message;
  };
  const Case cases[] = {
      {"", "not one JSON object"},
      {"[1]", "not one JSON object"},
      {R"({"alerts":[]})", "version: missing, not \"4\" (Alertmanager's webhook payload)"},
      {R"({"version":"3","alerts":[]})", "version: \"3\", not \"4\" (Alertmanager's webhook payload)"},
      {R"({"version":"4"})", "alerts: not an array"},
      {R"({"version":"4","alerts":[)" + ok_alert + R"(,7]})", "alerts[1]: not an object"},
      {R"({"version":"4","alerts":[{"status":"pending"}]})", "alerts[0].status: not \"firing\" or \"resolved\""},
      {R"({"version":"4","alerts":[{"status":"firing","startsAt":"2026-12-08T00:00:00Z","labels":{}}]})",
       "alerts[0].fingerprint: missing"},
      {R"({"version":"4","alerts":[{"status":"firing","fingerprint":"f","startsAt":"yesterday","labels":{}}]})",
       "alerts[0].startsAt: not an RFC 3339 time"},
      {R"({"version":"4","alerts":[{"status":"firing","fingerprint":"f","startsAt":"2026-12-08T00:00:00Z"}]})",
       "alerts[0].labels: not an object"},
      {R"({"version":"4","alerts":[{"status":"firing","fingerprint":"f","startsAt":"2026-12-08T00:00:00Z",)"
       R"("labels":{"a":1}}]})",
       "alerts[0].labels.a: not a string"},
      {R"({"version":"4","alerts":[{"status":"resolved","fingerprint":"f","startsAt":"2026-12-08T00:00:00Z",)"
       R"("endsAt":"soon","labels":{}}]})",
       "alerts[0].endsAt: not an RFC 3339 time"},
  };
  for (const Case& c : cases) {
    INFO(c.body);
    auto p = ParseAlertmanagerPayload(c.body);
    REQUIRE_FALSE(p);
    CHECK(p.error().message == c.message);
  }
  CHECK(ParseAlertmanagerPayload(R"({"version":"4","alerts":[)" + ok_alert + "]}"));
}

TEST_CASE("Alertmanager's label matchers, as its config writes them", "[alerts][config]") {
  auto eq = ParseAlertMatcher(R"(alertname="MySQLReplicationLag")");
  REQUIRE(eq);
  CHECK(eq.value().name == "alertname");
  CHECK(eq.value().op == AlertMatcher::Op::kEq);
  CHECK(eq.value().value == "MySQLReplicationLag");
  auto re = ParseAlertMatcher(R"( severity =~ "critical|page" )");
  REQUIRE(re);
  CHECK(re.value().op == AlertMatcher::Op::kRe);
  CHECK(re.value().value == "critical|page");
  auto ne = ParseAlertMatcher("env!=test");
  REQUIRE(ne);
  CHECK(ne.value().op == AlertMatcher::Op::kNe);
  CHECK(ne.value().value == "test");
  auto escaped = ParseAlertMatcher(R"(summary="a \"quoted\" word")");
  REQUIRE(escaped);
  CHECK(escaped.value().value == "a \"quoted\" word");
  // As Alertmanager unescapes: \" \\ \n; a regular expression's \d stays.
  auto digits = ParseAlertMatcher(R"(instance=~"db\d+\.example:9104")");
  REQUIRE(digits);
  CHECK(digits.value().value == R"(db\d+\.example:9104)");
  auto others = ParseAlertMatcher(R"(note="a\\b\nc")");
  REQUIRE(others);
  CHECK(others.value().value == "a\\b\nc");
  const std::pair<const char*, const char*> bad[] = {
      {"", "no label name"},
      {"=x", "no label name"},
      {"alertname", "no operator after \"alertname\""},
      {"a=\"x", "the value's quotes are not closed"},
      {"a=\"x\"y\"", "a quote inside the value is not escaped"},
      {"a=~\"(\"", "the regular expression does not compile"},
  };
  for (const auto& [text, why] : bad) {
    INFO(text);
    auto m = ParseAlertMatcher(text);
    REQUIRE_FALSE(m);
    CHECK_THAT(m.error().message, Catch::Contains(why));
    CHECK_THAT(m.error().message, Catch::Contains("NAME=\"VALUE\""));
  }
}

namespace {

struct Fleet {
  PoolConfig pool;
  std::vector<MonitoredMember> list;
  explicit Fleet(const std::vector<std::string>& servers) {
    pool.name = "replicas";
    for (const std::string& s : servers) pool.members.push_back({s, s + ".example", 3306});
    for (const MemberConfig& m : pool.members) list.push_back({&pool, &m, true});
  }
};

RuleConfig LagRule() {
  RuleConfig r;
  r.name = "lag";
  r.source = RuleSource::kAlertmanager;
  r.matchers = {ParseAlertMatcher(R"(alertname="MySQLReplicationLag")").value(),
                ParseAlertMatcher(R"(severity=~"page|critical")").value()};
  r.label = "server";
  r.series_template = "{server}";
  r.when = ParseCondition("alert is firing", RuleSource::kAlertmanager).value();
  return r;
}

StoredAlert Kept(const std::string& fingerprint, const std::string& server, bool firing,
                 const std::string& alertname = "MySQLReplicationLag", const std::string& severity = "page") {
  StoredAlert s;
  s.alert.fingerprint = fingerprint;
  s.alert.starts_at = At("2026-12-08T00:00:00Z");
  s.alert.firing = firing;
  s.alert.labels = {{"alertname", alertname}, {"server", server}, {"severity", severity}};
  s.first_seen = s.last_seen = At("2026-12-08T00:00:01Z");
  if (!firing) s.alert.ends_at = At("2026-12-08T00:05:00Z");
  return s;
}

}  // namespace

TEST_CASE("a member's alerts: the matchers select, the label names the member, none is resolved", "[alerts]") {
  Fleet fleet({"db1", "db2", "db3", "db4", "db5"});
  const RuleConfig rule = LagRule();
  const std::vector<StoredAlert> kept = {
      Kept("a1", "db1", true),                                   // db1: firing
      Kept("a2", "db2", false),                                  // db2: resolved
      Kept("a3", "db3", true, "DiskFull"),                       // not selected: another alertname
      Kept("a4", "db4", true, "MySQLReplicationLag", "ticket"),  // not selected: severity
  };
  fleet.list[4].read = false;  // db5: someone has it out: not read
  const WallTime now = At("2026-12-08T00:10:00Z");
  std::vector<RuleMember> v = AlertmanagerVerdicts(rule, kept, fleet.list, now);
  REQUIRE(v.size() == 5);
  CHECK(v[0].server == "db1");
  CHECK(v[0].when.is == Verdict::Is::kHolds);
  CHECK(v[0].when.text == "MySQLReplicationLag firing since 2026-12-08T00:00:00Z");
  CHECK(v[0].clear.is == Verdict::Is::kNot);
  CHECK(v[1].when.is == Verdict::Is::kNot);
  CHECK(v[1].when.text == "MySQLReplicationLag resolved at 2026-12-08T00:05:00Z");
  CHECK(v[1].clear.is == Verdict::Is::kHolds);
  CHECK(v[2].when.is == Verdict::Is::kNot);
  CHECK(v[2].when.text == "no alert with server=\"db3\"");
  CHECK(v[3].when.is == Verdict::Is::kNot);
  CHECK(v[4].when.is == Verdict::Is::kUnknown);  // not read: left to the caller
}

TEST_CASE("an alert resolved and fired again is firing, one not sent again within max_age is unknown", "[alerts]") {
  Fleet fleet({"db1", "db2"});
  RuleConfig rule = LagRule();
  rule.alert_max_age = std::chrono::hours(5);
  StoredAlert old = Kept("a1", "db1", false);
  StoredAlert again = Kept("a1", "db1", true);  // the same fingerprint, a new startsAt
  again.alert.starts_at = At("2026-12-08T01:00:00Z");
  again.first_seen = again.last_seen = At("2026-12-08T01:00:01Z");
  StoredAlert quiet = Kept("b1", "db2", true);
  quiet.last_seen = At("2026-12-08T00:00:01Z");
  const WallTime now = At("2026-12-08T05:30:00Z");
  std::vector<RuleMember> v = AlertmanagerVerdicts(rule, {old, again, quiet}, fleet.list, now);
  CHECK(v[0].when.is == Verdict::Is::kHolds);
  CHECK(v[0].when.text == "MySQLReplicationLag firing since 2026-12-08T01:00:00Z");
  CHECK(v[1].when.is == Verdict::Is::kUnknown);
  CHECK(v[1].clear.is == Verdict::Is::kUnknown);
  CHECK(v[1].when.text ==
        "MySQLReplicationLag firing, but Alertmanager has not sent it since 2026-12-08T00:00:01Z (max_age 5h)");
  rule.alert_max_age = Millis(0);  // never stale
  v = AlertmanagerVerdicts(rule, {old, again, quiet}, fleet.list, now);
  CHECK(v[1].when.is == Verdict::Is::kHolds);
}

TEST_CASE("regular expression matchers match the whole value, escapes as Alertmanager reads them", "[alerts]") {
  Fleet fleet({"db7", "db12", "canary1"});
  RuleConfig rule = LagRule();
  rule.matchers = {ParseAlertMatcher(R"(alertname=~"MySQL.*")").value(),
                   ParseAlertMatcher(R"(server!~"canary\d+")").value(),
                   ParseAlertMatcher(R"(server=~"db\d+|canary\d")").value()};
  const WallTime now = At("2026-12-08T00:10:00Z");
  auto v = AlertmanagerVerdicts(rule, {Kept("a", "db7", true), Kept("b", "db12", true), Kept("c", "canary1", true)},
                                fleet.list, now);
  CHECK(v[0].when.is == Verdict::Is::kHolds);
  CHECK(v[1].when.is == Verdict::Is::kHolds);
  CHECK(v[2].when.is == Verdict::Is::kNot);  // excluded by !~
  rule.matchers = {ParseAlertMatcher(R"(alertname=~"MySQL")").value()};  // anchored: not a prefix match
  v = AlertmanagerVerdicts(rule, {Kept("a", "db7", true)}, fleet.list, now);
  CHECK(v[0].when.is == Verdict::Is::kNot);
}

TEST_CASE("an alert whose resolution was lost is replaced when it fires again and then resolves", "[alerts]") {
  Fleet fleet({"db1"});
  RuleConfig rule = LagRule();
  rule.alert_max_age = std::chrono::hours(5);
  StoredAlert lost = Kept("a1", "db1", true);  // its resolution never arrived
  StoredAlert again = Kept("a1", "db1", false);  // the same alert fired again later, and resolved
  again.alert.starts_at = At("2026-12-09T00:00:00Z");
  again.alert.ends_at = At("2026-12-09T00:30:00Z");
  again.last_seen = At("2026-12-09T00:30:01Z");
  const WallTime now = At("2026-12-09T01:00:00Z");
  auto v = AlertmanagerVerdicts(rule, {lost, again}, fleet.list, now);
  CHECK(v[0].when.is == Verdict::Is::kNot);
  CHECK(v[0].when.text == "MySQLReplicationLag resolved at 2026-12-09T00:30:00Z");
  CHECK(v[0].clear.is == Verdict::Is::kHolds);
  // Alone, the lost one is firing, and past max_age unknown: never healthy.
  v = AlertmanagerVerdicts(rule, {lost}, fleet.list, now);
  CHECK(v[0].when.is == Verdict::Is::kUnknown);
}

TEST_CASE("a rule whose clear is 'alert is resolved' clears once the alert resolves", "[alerts]") {
  Fleet fleet({"db1"});
  RuleConfig rule = LagRule();
  rule.clear = ParseCondition("alert is resolved", RuleSource::kAlertmanager).value();
  const WallTime now = At("2026-12-08T00:10:00Z");
  auto firing = AlertmanagerVerdicts(rule, {Kept("a1", "db1", true)}, fleet.list, now);
  CHECK(firing[0].when.is == Verdict::Is::kHolds);
  CHECK(firing[0].clear.is == Verdict::Is::kNot);
  auto resolved = AlertmanagerVerdicts(rule, {Kept("a1", "db1", false)}, fleet.list, now);
  CHECK(resolved[0].when.is == Verdict::Is::kNot);
  CHECK(resolved[0].clear.is == Verdict::Is::kHolds);
  CHECK_FALSE(ParseCondition("alert is pending", RuleSource::kAlertmanager));
  CHECK_FALSE(ParseCondition("value > 1", RuleSource::kAlertmanager));
}

}  // namespace caretaker
