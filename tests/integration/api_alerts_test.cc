// Alertmanager's intake (POST /api/v1/alerts/alertmanager) on the real
// sandbox with real Alertmanagers (tests/sandbox/alertmanager.h) sending to
// serve: two of them notify the same alert, as HA peers do, and the member
// is depooled once, with one audit entry; the alert resolved repools it.
// Before that, what the intake refuses: a viewer, a payload that is not
// Alertmanager's (nothing kept), an alertmanager token anywhere else.
#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "tests/integration/api_fixture.h"
#include "src/store/maint_record.h"
#include "tests/sandbox/alertmanager.h"

namespace caretaker {

using namespace api_testing;

namespace {

constexpr const char* kIntake = "/api/v1/alerts/alertmanager";

const std::string kRule =
    "[[rules]]\nname = \"am-lag\"\nsource = \"alertmanager\"\n"
    "matchers = ['alertname=\"MySQLReplicationLag\"', 'severity=~\"page|critical\"']\n"
    "label = \"server\"\nwhen = \"alert is firing\"\nfor = \"0s\"\nclear_for = \"0s\"\ninterval = \"5s\"\n"
    "cooldown = \"1s\"\n";

// The alert as Prometheus sends it to every Alertmanager: the same labels
// and startsAt; with `ends`, resolved at that time.
std::string LagAlert(const std::string& starts, const std::string& ends = "") {
  return R"([{"labels":{"alertname":"MySQLReplicationLag","server":"db2","severity":"page"},)"
         R"("annotations":{"summary":"db2 is 120 s behind its primary"},"startsAt":")" + starts + "\"" +
         (ends.empty() ? "" : ",\"endsAt\":\"" + ends + "\"") + "}]";
}

std::string Utc(std::chrono::system_clock::time_point t) {
  return FormatUtc(std::chrono::time_point_cast<std::chrono::seconds>(t));
}

// The alert.* entries of the audit trail, newest first, as the API lists them.
json::array AlertEntries(const ApiServe& s) {
  HttpResult r = Get(s, "/api/v1/audit?action=alert.", s.viewer.secret);
  REQUIRE(r.status == 200);
  return Body(r)["audit"].as_array();
}

// A counter's value on /metrics ("" when the sample is missing).
std::string Sample(const ApiServe& s, const std::string& sample) {
  const std::string text = Get(s, "/metrics", s.viewer.secret).body;
  const size_t at = text.find("\n" + sample + " ");
  if (at == std::string::npos) return "";
  const size_t from = at + sample.size() + 2;
  return text.substr(from, text.find('\n', from) - from);
}

}  // namespace

TEST_CASE("the API: an alert two Alertmanagers both send depools its member once, its resolution repools it",
          "[serve][api][alerts]") {
  ApiServe s = ApiConfig("api-alerts", kRule);
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));

  // Refused before anything is kept.
  const std::string now = Utc(std::chrono::system_clock::now());
  CheckProblem(Post(s, kIntake, s.viewer.secret, "{\"version\":\"4\",\"alerts\":[]}"), 403);
  HttpResult garbage = Post(s, kIntake, s.alerts.secret, "{\"receiver\":\"x\",\"alerts\":[]}");
  CheckProblem(garbage, 400);
  CHECK(Body(garbage)["detail"].as_string() ==
        "not Alertmanager's webhook payload: version: missing, not \"4\" (Alertmanager's webhook payload); "
        "nothing was taken");
  HttpResult bad_time = Post(s, kIntake, s.alerts.secret,
                             R"({"version":"4","alerts":[{"status":"firing","fingerprint":"f","labels":{},)"
                             R"("startsAt":"now"}]})");
  CheckProblem(bad_time, 400);
  CHECK_THAT(std::string(Body(bad_time)["detail"].as_string()), Catch::Contains("alerts[0].startsAt"));
  CheckProblem(Post(s, kIntake, s.alerts.secret, "{}", {"Content-Type: text/plain"}), 415);
  HttpResult reads = Get(s, "/api/v1/status", s.alerts.secret);
  CheckProblem(reads, 403);
  CHECK_THAT(std::string(Body(reads)["detail"].as_string()),
             Catch::Contains("the token am is an alertmanager token: it only posts alerts"));
  CheckProblem(Post(s, "/api/v1/halt", s.alerts.secret, "{\"reason\":\"x\"}"), 403);
  CHECK(AlertEntries(s).empty());

  // Two Alertmanagers, each sending to serve, are both given the alert.
  const std::string url = "http://127.0.0.1:" + std::to_string(s.port) + kIntake;
  auto am1 = sandbox::Alertmanager::Start(url, s.alerts.secret);
  auto am2 = sandbox::Alertmanager::Start(url, s.alerts.secret);
  const std::string starts = Utc(std::chrono::system_clock::now() - std::chrono::seconds(30));
  am1->Push(LagAlert(starts));
  am2->Push(LagAlert(starts));
  const bool out = WaitForText(serve.proc.err_path,
                               "rule.act.end rule=am-lag action=depool target=replicas/db2 result=done", 30s);
  CHECK(out);
  CHECK(AdminStates("db2") == "1 1");
  for (const char* m : {"db1", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
  // Both copies arrived; one was kept, with one audit entry.
  for (int i = 0; i < 100 && Sample(s, "caretaker_alerts_received_total{result=\"duplicate\"}") != "1"; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  CHECK(Sample(s, "caretaker_alerts_received_total{result=\"firing\"}") == "1");
  CHECK(Sample(s, "caretaker_alerts_received_total{result=\"duplicate\"}") == "1");
  CHECK(Sample(s, "caretaker_alerts_firing") == "1");
  json::array entries = AlertEntries(s);
  REQUIRE(entries.size() == 1);
  json::object firing = entries[0].as_object();
  CHECK(firing["action"].as_string() == "alert.firing");
  CHECK(firing["who"].as_string() == "am (api)");
  CHECK(firing["api"].as_object()["role"].as_string() == "alertmanager");
  CHECK(firing["api"].as_object()["remote"].as_string() == "127.0.0.1");
  CHECK_THAT(std::string(firing["detail"].as_string()),
             Catch::Contains("server=\"db2\"") && Catch::Contains("} startsAt " + starts.substr(0, 19) + ".000Z") &&
                 Catch::EndsWith(": db2 is 120 s behind its primary"));
  // The event stream says it as an event of type alert.
  int alert_events = 0;
  for (const Event& e : ReadEvents(s, s.viewer.secret, "0", 1500ms)) alert_events += e.type == "alert";
  CHECK(alert_events == 1);
  // `caretaker audit` reads the same trail.
  Run audit = Caretaker("audit --action alert. --json", s.config);
  CHECK(audit.exit_code == 0);
  CHECK_THAT(audit.out, Catch::Contains("\"action\":\"alert.firing\"") && Catch::Contains("\"who\":\"am (api)\""));
  // The rule says why it acted, through the API as `caretaker rules --json` does.
  Run rules = Caretaker("rules --json", s.config);
  CHECK_THAT(rules.out, Catch::Contains("MySQLReplicationLag firing since " + starts));
  json::object listed = Body(Get(s, "/api/v1/rules", s.viewer.secret));
  REQUIRE(listed["rules"].as_array().size() == 1);
  json::object rule = Body(Get(s, "/api/v1/rules/am-lag", s.viewer.secret));
  json::object cli = json::parse(rules.out).as_object()["rules"].as_array()[0].as_object();
  for (const auto& [key, value] : cli) CHECK(rule.contains(key));
  CHECK(rule.size() == cli.size());
  CHECK(rule["source"].as_string() == "alertmanager");
  CHECK(rule["tripped"].is_null());
  bool said = false;
  for (const json::value& m : rule["members"].as_array()) {
    const json::object& o = m.as_object();
    if (o.at("server").as_string() == "db2") {
      said = std::string(o.at("why").as_string()).find("MySQLReplicationLag firing since " + starts) != std::string::npos;
    }
  }
  CHECK(said);
  CheckProblem(Get(s, "/api/v1/rules/no-such-rule", s.viewer.secret), 404);

  // Resolved (Prometheus sends an endsAt once the condition is gone): both
  // Alertmanagers send it; the member is put back once.
  const std::string ends = Utc(std::chrono::system_clock::now());
  am1->Push(LagAlert(starts, ends));
  am2->Push(LagAlert(starts, ends));
  const bool back = WaitForText(serve.proc.err_path,
                                "rule.act.end rule=am-lag action=repool target=replicas/db2 result=done", 30s);
  CHECK(back);
  for (int i = 0; i < 100 && Sample(s, "caretaker_alerts_received_total{result=\"duplicate\"}") != "2"; ++i) {
    std::this_thread::sleep_for(100ms);
  }
  CHECK(Sample(s, "caretaker_alerts_received_total{result=\"resolved\"}") == "1");
  CHECK(Sample(s, "caretaker_alerts_received_total{result=\"duplicate\"}") == "2");
  CHECK(Sample(s, "caretaker_alerts_firing") == "0");
  entries = AlertEntries(s);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].as_object()["action"].as_string() == "alert.resolved");
  CHECK(entries[0].as_object()["target"] == entries[1].as_object()["target"]);  // the same fingerprint

  Run served = serve.Stop();
  INFO(served.err);
  CHECK(served.exit_code == 0);
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
  CHECK(Caretaker("maint list --json", s.config).out.find("\"server\"") == std::string::npos);
}

}  // namespace caretaker
