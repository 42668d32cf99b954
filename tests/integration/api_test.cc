// serve's HTTP API (src/serve/api.h) on the real sandbox: tokens and roles,
// the refusals that come before anything is read (Host, cross-site, content
// type, a missing reason), each change in the audit trail with its request
// id — read back by `caretaker audit` — a roll queued with an
// Idempotency-Key and walked by serve, a refused change as 409 with the
// CLI's sentence, and /metrics as `promtool check metrics` takes it.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <set>
#include <thread>
#include <vector>

#include "tests/integration/api_fixture.h"

namespace caretaker {

using namespace api_testing;

TEST_CASE("the API: tokens and roles, refusals before anything is read, each change audited with its request id",
          "[serve][api]") {
  ApiServe s = ApiConfig("api-auth", "[[rules]]\nname = \"lagwatch\"\nwhen = \"lag > 1h\"\naction = \"notify\"\n"
                                     "mode = \"observe\"\n");
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));
  CHECK(Get(s, "/readyz", "").status == 200);

  // No token, a wrong one, one in another scheme.
  HttpResult none = Get(s, "/api/v1/status", "");
  CheckProblem(none, 401);
  CHECK(none.Header("WWW-Authenticate").find("Bearer") == 0);
  CheckProblem(Get(s, "/api/v1/status", "ct_not-a-token"), 401);
  CheckProblem(sandbox::HttpLoopback(s.port, "GET", "/api/v1/status", {"Authorization: Basic " + s.viewer.secret}, "", 10s), 401);

  // A viewer reads.
  HttpResult status = Get(s, "/api/v1/status", s.viewer.secret, {"X-Request-Id: req-status-1"});
  REQUIRE(status.status == 200);
  CHECK(status.Header("X-Request-Id") == "req-status-1");
  CHECK(status.Header("Access-Control-Allow-Origin").empty());
  json::object st = Body(status);
  CHECK(st["halt"].as_object()["halted"].as_bool() == false);
  REQUIRE(st["pools"].as_array().size() >= 1);
  CHECK(st["pools"].as_array()[0].as_object()["name"].as_string() == "replicas");

  // ... but does not change anything.
  CheckProblem(Post(s, "/api/v1/halt", s.viewer.secret, R"({"reason":"viewer tries"})"), 403);
  // Refused before the body is read: another site's Host (DNS rebinding),
  // a browser's cross-site request, a POST that is not JSON, no reason.
  CheckProblem(Get(s, "/api/v1/status", s.viewer.secret, {"Host: evil.example:80"}), 421);
  CheckProblem(Post(s, "/api/v1/halt", s.op.secret, R"({"reason":"x"})",
                    {"Content-Type: application/json", "Origin: http://evil.example"}),
               403);
  CheckProblem(Post(s, "/api/v1/halt", s.op.secret, R"({"reason":"x"})",
                    {"Content-Type: application/json", "Sec-Fetch-Site: cross-site"}),
               403);
  CheckProblem(Post(s, "/api/v1/halt", s.op.secret, R"({"reason":"x"})", {"Content-Type: text/plain"}), 415);
  CheckProblem(Post(s, "/api/v1/halt", s.op.secret, R"({"abort":false})"), 400);
  CheckProblem(Post(s, "/api/v1/halt", s.op.secret, R"({"reason":"   "})"), 400);
  CheckProblem(Post(s, "/api/v1/halt", s.op.secret, "not json"), 400);
  HttpResult wrong_method = Get(s, "/api/v1/halt", s.op.secret);
  CheckProblem(wrong_method, 405);
  CHECK(wrong_method.Header("Allow") == "POST");
  CheckProblem(Get(s, "/api/v1/jobs/abc", s.op.secret), 404);
  CheckProblem(Get(s, "/api/v1/nothing", s.op.secret), 404);
  {
    Run halted = Caretaker("halt --status --json", s.config);
    CHECK(halted.out.find("\"halted\":false") != std::string::npos);
    Run audit = Caretaker("audit --json --action api.", s.config);
    REQUIRE(audit.exit_code == 0);
    CHECK(json::parse(audit.out).as_object()["audit"].as_array().empty());  // nothing refused was a change
  }

  // An operator halts: the halt is the store's (the CLI sees it), and the
  // audit trail has the request, its actor, role, address and result.
  HttpResult halt = Post(s, "/api/v1/halt", s.op.secret, R"({"reason":"deploy freeze 7"})",
                         {"Content-Type: application/json", "X-Request-Id: req-halt-1"});
  REQUIRE(halt.status == 200);
  CHECK(Body(halt)["halt"].as_object()["halted"].as_bool());
  Run halted = Caretaker("halt --status --json", s.config);
  CHECK(halted.out.find("\"halted\":true") != std::string::npos);
  CHECK(halted.out.find("deploy freeze 7") != std::string::npos);
  Run audit = Caretaker("audit --json --action api.halt", s.config);
  json::array rows = json::parse(audit.out).as_object()["audit"].as_array();
  REQUIRE(rows.size() == 1);
  json::object row = rows[0].as_object();
  CHECK(row["who"].as_string() == "ci (api)");
  CHECK(row["detail"].as_string() == "deploy freeze 7");
  CHECK(row["api"].as_object()["role"].as_string() == "operator");
  CHECK(row["api"].as_object()["remote"].as_string() == "127.0.0.1");
  CHECK(row["api"].as_object()["request_id"].as_string() == "req-halt-1");
  CHECK(row["api"].as_object()["result"].as_string() == "ok");
  // The API reads the same trail, with the token's role; no token in it.
  HttpResult api_audit = Get(s, "/api/v1/audit?action=api.&limit=10", s.viewer.secret);
  REQUIRE(api_audit.status == 200);
  CHECK(api_audit.body.find(s.op.secret) == std::string::npos);
  CHECK(api_audit.body.find(s.op.line.substr(s.op.line.rfind(' ') + 1)) == std::string::npos);
  CHECK(Body(api_audit)["audit"].as_array().size() == 1);

  REQUIRE(Post(s, "/api/v1/resume", s.op.secret, R"({"reason":"freeze over"})").status == 200);
  CHECK(Caretaker("halt --status --json", s.config).out.find("\"halted\":false") != std::string::npos);
  // check: the file on disk, as `caretaker check` reads it.
  json::object check = Body(Get(s, "/api/v1/check", s.viewer.secret));
  CHECK(check["valid"].as_bool());
  Run cli_check = Caretaker("check", s.config);
  CHECK(cli_check.out.rfind(std::string(check["summary"].as_string()) + "\n", 0) == 0);
  CHECK(check["policies"].as_array().size() == 1);
  CHECK(cli_check.out.find(std::string(check["policies"].as_array()[0].as_string())) != std::string::npos);
  std::string good;
  {
    std::ifstream in(s.config);
    std::stringstream text;
    text << in.rdbuf();
    good = text.str();
    std::ofstream broken(s.config, std::ios::app);
    broken << "\n[nonsense]\nkey = 1\n";
  }
  json::object bad = Body(Get(s, "/api/v1/check", s.viewer.secret));
  CHECK_FALSE(bad["valid"].as_bool());
  REQUIRE(bad["errors"].as_array().size() == 1);
  CHECK(Caretaker("check", s.config).err.find(std::string(bad["errors"].as_array()[0].as_string())) != std::string::npos);
  CHECK(bad["running_policies"].as_array().size() == 1);
  std::ofstream(s.config, std::ios::trunc) << good;

  // A rule's breaker: the CLI's sentences, a missing rule 404.
  HttpResult reset = Post(s, "/api/v1/rules/lagwatch/reset", s.op.secret, R"({"reason":"checked the lag"})");
  INFO(reset.body);
  CHECK(reset.status == 200);
  CHECK(Body(reset)["result"].as_string() == "rule lagwatch: its breaker is closed; nothing to reset");
  CHECK(Caretaker("rules reset lagwatch", s.config).out == "rule lagwatch: its breaker is closed; nothing to reset\n");
  HttpResult no_rule = Post(s, "/api/v1/rules/nope/reset", s.op.secret, R"({"reason":"typo"})");
  CheckProblem(no_rule, 404);
  CHECK(Body(no_rule)["detail"].as_string().find("no rule named nope in ") == 0);
  CHECK(Caretaker("rules reset nope", s.config).err.find(std::string(Body(no_rule)["detail"].as_string())) != std::string::npos);
  Run text = Caretaker("audit --action api.", s.config);
  CHECK(text.out.find("api.resume") != std::string::npos);
  CHECK(text.out.find("api.rule.reset") != std::string::npos);
  CHECK(text.out.find("[api operator from 127.0.0.1") != std::string::npos);
  serve.Stop();
}

TEST_CASE("the API: a roll queued once per Idempotency-Key, walked by serve, a refused cancel is 409 with the "
          "CLI's sentence, and /metrics passes promtool",
          "[serve][api]") {
  ApiServe s = ApiConfig("api-roll");
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));

  const std::string roll = R"({"pool":"replicas","task":"slow","limit":["db2"],"reason":"kernel 6.1.0-28"})";
  std::vector<std::string> keyed{"Content-Type: application/json", "Idempotency-Key: roll-kernel-1"};
  HttpResult first = Post(s, "/api/v1/roll", s.op.secret, roll, keyed);
  INFO(first.head << first.body);
  REQUIRE(first.status == 202);
  const std::string location = first.Header("Location");
  REQUIRE(location.rfind("/api/v1/jobs/", 0) == 0);
  // The same request again (a client retrying after a timeout): the same
  // reply, no second job; the key with another request: refused.
  HttpResult again = Post(s, "/api/v1/roll", s.op.secret, roll, keyed);
  CHECK(again.status == 202);
  CHECK(again.body == first.body);
  CHECK(again.Header("Idempotent-Replayed") == "true");
  CHECK(again.Header("Location") == location);
  CheckProblem(Post(s, "/api/v1/roll", s.op.secret,
                    R"({"pool":"replicas","task":"slow","limit":["db3"],"reason":"kernel 6.1.0-28"})", keyed),
               422);
  CheckProblem(Post(s, "/api/v1/roll", s.op.secret, R"({"pool":"replicas","task":"nope","reason":"x"})"), 422);

  const std::string id = location.substr(location.rfind('/') + 1);
  bool done = false;
  std::string during;  // a scrape taken while the walk runs
  for (int i = 0; i < 300 && !done; ++i) {
    HttpResult job = Get(s, location, s.viewer.secret);
    REQUIRE(job.status == 200);
    const std::string state(Body(job)["state"].as_string());
    done = state == "done";
    if (state == "running" && during.empty()) {
      HttpResult scrape = Get(s, "/metrics", s.viewer.secret);
      REQUIRE(scrape.status == 200);
      if (scrape.body.find("caretaker_walk_members{pool=\"replicas\"") != std::string::npos) during = scrape.body;
    }
    if (!done) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(done);
  // During the walk: promtool takes it, and it shows the walk's one member
  // and nothing blocking it.
  REQUIRE_FALSE(during.empty());
  {
    auto [code, said] = Promtool(during);
    INFO(said << during);
    CHECK(code == 0);
    CHECK(during.find("caretaker_walk_members{pool=\"replicas\",state=\"active\"} 1\n") != std::string::npos);
    CHECK(during.find("caretaker_walk_blocked{pool=\"replicas\",reason=\"halted\"} 0\n") != std::string::npos);
    CHECK(during.find("caretaker_walk_blocked{pool=\"replicas\",reason=\"budget\"} 0\n") != std::string::npos);
    CHECK(during.find("caretaker_lock_held{pool=\"replicas\"} 1\n") != std::string::npos);
  }
  HttpResult list = Get(s, "/api/v1/jobs?state=done&limit=1", s.viewer.secret);
  REQUIRE(list.status == 200);
  json::object page = Body(list);
  REQUIRE(page["jobs"].as_array().size() == 1);
  CHECK(std::to_string(page["jobs"].as_array()[0].as_object()["id"].as_int64()) == id);
  CHECK(Body(Get(s, "/api/v1/jobs?pool=replicas", s.viewer.secret))["jobs"].as_array().size() == 1);
  CheckProblem(Get(s, "/api/v1/jobs/999999", s.viewer.secret), 404);

  // Refused: the same sentence as `caretaker job cancel`, and the refusal
  // in the audit trail.
  Run cli = Caretaker("job cancel " + id, s.config);
  CHECK(cli.exit_code != 0);
  HttpResult cancel = Post(s, location + "/cancel", s.op.secret, R"({"reason":"oops"})");
  CheckProblem(cancel, 409);
  const std::string sentence = std::string(Body(cancel)["detail"].as_string());
  CHECK(sentence == "job " + id + " is done: there is nothing to cancel");
  CHECK(cli.err.find(sentence) != std::string::npos);
  Run audit = Caretaker("audit --json --action api.job.cancel", s.config);
  CHECK(audit.out.find("\"result\":\"refused: " + sentence + "\"") != std::string::npos);

  // /metrics: a viewer's token, the text format promtool accepts.
  CheckProblem(Get(s, "/metrics", ""), 401);
  HttpResult metrics = Get(s, "/metrics", s.viewer.secret);
  REQUIRE(metrics.status == 200);
  CHECK(metrics.Header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  auto [code, said] = Promtool(metrics.body);
  INFO(said << metrics.body);
  CHECK(code == 0);
  CHECK(metrics.body.find("caretaker_halted 0\n") != std::string::npos);
  CHECK(metrics.body.find("caretaker_jobs_finished_total{result=\"done\"} 1\n") != std::string::npos);
  CHECK(metrics.body.find("caretaker_pool_members{pool=\"replicas\"} 4\n") != std::string::npos);
  CHECK(metrics.body.find("caretaker_http_requests_total{route=\"/api/v1/roll\",code=\"202\"} 2\n") !=
        std::string::npos);
  CHECK(metrics.body.find("caretaker_job_duration_seconds_count 1\n") != std::string::npos);
  // The walk's step and gates, timed as it went.
  CHECK(metrics.body.find("caretaker_step_duration_seconds_count{pool=\"replicas\"} 1\n") != std::string::npos);
  CHECK(metrics.body.find("caretaker_gate_wait_seconds_count{pool=\"replicas\",gate=\"catch-up\"} 1\n") !=
        std::string::npos);
  CHECK(metrics.body.find("caretaker_lock_held{pool=\"replicas\"} 0\n") != std::string::npos);
  serve.Stop();
}

TEST_CASE("the API: events as SSE replayed after a reconnect with none lost or repeated, and a job's log by "
          "sequence",
          "[serve][api]") {
  ApiServe s = ApiConfig("api-events");
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));

  // A client listening from now on while a job walks and the switch is thrown.
  std::vector<Event> live;
  std::string head;
  std::thread listener([&] { live = ReadEvents(s, s.viewer.secret, "", 8000ms, &head); });
  std::this_thread::sleep_for(500ms);
  HttpResult roll = Post(s, "/api/v1/roll", s.op.secret, R"({"pool":"replicas","task":"slow","limit":["db3"],"reason":"events"})");
  REQUIRE(roll.status == 202);
  const std::string location = roll.Header("Location");
  const std::string id = location.substr(location.rfind('/') + 1);
  bool done = false;
  for (int i = 0; i < 300 && !done; ++i) {
    done = Body(Get(s, location, s.viewer.secret))["state"].as_string() == "done";
    if (!done) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(done);
  REQUIRE(Post(s, "/api/v1/halt", s.op.secret, R"({"reason":"events test"})").status == 200);
  REQUIRE(Post(s, "/api/v1/resume", s.op.secret, R"({"reason":"events test over"})").status == 200);
  listener.join();
  INFO(head);
  CHECK(head.find("Content-Type: text/event-stream") != std::string::npos);
  std::set<std::string> types;
  for (const Event& e : live) types.insert(e.type);
  CHECK(types.count("job"));
  CHECK(types.count("member"));
  CHECK(types.count("maintenance"));
  CHECK(types.count("halt"));
  std::vector<int64_t> ids = Ids(live);
  REQUIRE(ids.size() >= 6);
  for (size_t i = 1; i < ids.size(); ++i) CHECK(ids[i] > ids[i - 1]);

  // Reconnecting with the id of an event in the middle: exactly the ones
  // after it, each once — the same the audit trail holds after it.
  const int64_t middle = ids[ids.size() / 2];
  std::vector<int64_t> replay = Ids(ReadEvents(s, s.viewer.secret, std::to_string(middle), 1500ms));
  std::vector<int64_t> expected(ids.begin() + static_cast<long>(ids.size() / 2) + 1, ids.end());
  CHECK(replay == expected);
  Run audit = Caretaker("audit --json --limit 1000", s.config);
  std::vector<int64_t> trail;
  const json::value trail_doc = json::parse(audit.out);
  for (const json::value& e : trail_doc.as_object().at("audit").as_array()) {
    if (e.as_object().at("id").as_int64() > middle) trail.insert(trail.begin(), e.as_object().at("id").as_int64());
  }
  CHECK(replay == trail);
  // From the start (Last-Event-ID 0): everything, the first entry first.
  std::vector<int64_t> all = Ids(ReadEvents(s, s.viewer.secret, "0", 1500ms));
  REQUIRE_FALSE(all.empty());
  CHECK(all.back() == ids.back());
  CHECK(std::set<int64_t>(all.begin(), all.end()).size() == all.size());

  // The job's log: its states and its member's progress, paged by "after".
  json::object log = Body(Get(s, location + "/log", s.viewer.secret));
  json::array lines = log["lines"].as_array();
  REQUIRE(lines.size() >= 4);
  std::string text;
  for (const json::value& l : lines) text += std::string(l.as_object().at("action").as_string()) + " " +
                                             std::string(l.as_object().at("detail").as_string()) + "\n";
  INFO(text);
  CHECK(text.find("job.queued") != std::string::npos);
  CHECK(text.find("lease.taken job " + id + " by ") != std::string::npos);
  CHECK(text.find("job.host job " + id + ": step 1") != std::string::npos);
  CHECK(text.find("job.host job " + id + ": done") != std::string::npos);
  CHECK(text.find("job.done") != std::string::npos);
  const int64_t second = lines[1].as_object().at("id").as_int64();
  json::object rest = Body(Get(s, location + "/log?after=" + std::to_string(second), s.viewer.secret));
  CHECK(rest["lines"].as_array().size() == lines.size() - 2);
  CHECK(rest["after"].as_int64() == log["after"].as_int64());
  CHECK(Body(Get(s, location + "/log?after=" + std::to_string(log["after"].as_int64()), s.viewer.secret))["lines"]
            .as_array()
            .empty());
  serve.Stop();
}

TEST_CASE("the API: pools as serve last read them, judged by the capacity policy, a member held by a person "
          "counted out, and the live members in /metrics",
          "[serve][api]") {
  ApiServe s = ApiConfig("api-pools");
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));
  auto pools_read = [&] {
    for (int i = 0; i < 100; ++i) {
      HttpResult r = Get(s, "/api/v1/pools", s.viewer.secret);
      if (r.status == 200) return Body(r);
      CheckProblem(r, 503);  // not read yet: says so
      CHECK(r.Header("Retry-After") == "2");
      std::this_thread::sleep_for(200ms);
    }
    std::ifstream err(serve.proc.err_path);
    std::stringstream said;
    said << err.rdbuf();
    FAIL("serve never read the pools; it said: " << said.str());
    return json::object{};
  };
  json::object all = pools_read();
  REQUIRE(all["pools"].as_array().size() == 1);
  json::object pool = all["pools"].as_array()[0].as_object();
  CHECK(pool["name"].as_string() == "replicas");
  CHECK(pool["members"].as_int64() == 4);
  CHECK(pool["read_completely"].as_bool());
  json::object capacity = pool["capacity"].as_object();
  INFO(json::serialize(capacity));
  CHECK(capacity["in_service"].as_int64() == 4);
  CHECK(capacity["by_state"].as_object()["in_service"].as_int64() == 4);
  const int64_t floor = capacity["floor"].as_int64();
  const int64_t max_out = capacity["max_out"].is_null() ? 4 : capacity["max_out"].as_int64();
  // How many more may go out with `out` members out already.
  auto allowed = [&](int64_t out) { return std::max<int64_t>(0, std::min(4 - out - floor, max_out - out)); };
  CHECK(capacity["disruptions_allowed"].as_int64() == allowed(0));
  CHECK(capacity["sentence"].as_string().find("may go out now") != std::string::npos);
  CHECK(all["errors"].as_array().empty());
  CheckProblem(Get(s, "/api/v1/pools/nope", s.viewer.secret), 404);

  // A person takes db3 out: after serve's next reading it is in maintenance,
  // with its owner and reason, and the budget is smaller by one.
  Run maint = Caretaker("maint start replicas/db3 --reason \"disk swap\" --for 1h", s.config);
  REQUIRE(maint.exit_code == 0);
  json::object one;
  for (int i = 0; i < 150; ++i) {
    HttpResult r = Get(s, "/api/v1/pools/replicas", s.viewer.secret);
    REQUIRE(r.status == 200);
    one = Body(r);
    // The record is read at each request, HAProxy at serve's next reading.
    bool maint_read = false;
    for (const json::value& v : one["members"].as_array()) {
      maint_read = maint_read || (v.as_object().at("server").as_string() == "db3" &&
                                  v.as_object().at("admin") == json::value("MAINT"));
    }
    if (maint_read && one["capacity"].as_object()["by_state"].as_object()["in_maintenance"].as_int64() == 1) break;
    std::this_thread::sleep_for(200ms);
  }
  INFO(json::serialize(one));
  REQUIRE(one["capacity"].as_object()["by_state"].as_object()["in_maintenance"].as_int64() == 1);
  CHECK(one["capacity"].as_object()["disruptions_allowed"].as_int64() == allowed(1));
  CHECK(one["out_of_traffic"].as_int64() == 1);
  REQUIRE(one["members"].as_array().size() == 4);
  for (const json::value& v : one["members"].as_array()) {
    const json::object& m = v.as_object();
    const std::string server(m.at("server").as_string());
    CHECK(m.at("haproxy").as_array().size() == 2);
    CHECK(m.at("mysql").as_object().at("error").is_null());
    if (server == "db3") {
      CHECK(m.at("maintenance").as_object().at("reason").as_string() == "disk swap");
      CHECK(m.at("admin").as_string() == "MAINT");
      CHECK(m.at("may_go_out_now").as_object().at("allowed").as_bool());  // already out: costs nothing
    } else {
      CHECK(m.at("maintenance").is_null());
      CHECK(m.at("mysql").as_object().at("lag_s").is_int64());
      CHECK(m.at("may_go_out_now").as_object().at("allowed").as_bool() == (allowed(1) > 0));
    }
  }
  // The plan from that reading, as `caretaker plan --json` says it: db3 is
  // skipped (a person holds it), the others walk.
  HttpResult plan = Get(s, "/api/v1/plan?pool=replicas&task=slow", s.viewer.secret);
  INFO(plan.body);
  REQUIRE(plan.status == 200);
  json::object api_plan = Body(plan)["pools"].as_array()[0].as_object();
  Run cli = Caretaker("plan --pool replicas --task slow --json", s.config);
  INFO(cli.out << cli.err);
  REQUIRE(cli.exit_code == 3);  // it cannot walk past db3 now: said, as the plan says
  json::object cli_plan = json::parse(cli.out).as_object()["pools"].as_array()[0].as_object();
  for (const char* key : {"waves", "skipped", "not_started", "blocked", "members", "counted_out"}) {
    INFO(key);
    CHECK(api_plan[key] == cli_plan[key]);
  }
  CHECK_THAT(json::serialize(api_plan["skipped"]), Catch::Contains("db3") && Catch::Contains("disk swap"));
  CheckProblem(Get(s, "/api/v1/plan", s.viewer.secret), 400);
  CheckProblem(Get(s, "/api/v1/plan?pool=replicas&task=nope", s.viewer.secret), 422);
  HttpResult metrics = Get(s, "/metrics", s.viewer.secret);
  REQUIRE(metrics.status == 200);
  auto [code, said] = Promtool(metrics.body);
  INFO(said << metrics.body);
  CHECK(code == 0);
  CHECK(metrics.body.find("caretaker_members{pool=\"replicas\",state=\"in_service\"} 3\n") != std::string::npos);
  CHECK(metrics.body.find("caretaker_members{pool=\"replicas\",state=\"in_maintenance\"} 1\n") != std::string::npos);
  CHECK(metrics.body.find("caretaker_members_in_service{pool=\"replicas\"} 3\n") != std::string::npos);
  CHECK(metrics.body.find("caretaker_members_floor{pool=\"replicas\"} " + std::to_string(floor) + "\n") !=
        std::string::npos);
  CHECK(metrics.body.find("caretaker_haproxy_probe_errors_total{instance=\"lb1\"} 0\n") != std::string::npos);
  REQUIRE(Caretaker("maint stop replicas/db3", s.config).exit_code == 0);
  serve.Stop();
}

}  // namespace caretaker
