// The API's changes that serve walks, on the real sandbox: maint start and
// stop of one member; a failed job's host put back by POST restore; a
// failed job gone on with by POST retry, its failed step run again as
// `caretaker job retry` does; each refusal a 409 with the CLI's sentence.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "tests/integration/api_fixture.h"

namespace caretaker {

using namespace api_testing;

namespace {

// Waits until the job at `location` is in `state` (30 s at most); its state then.
std::string WaitForState(const ApiServe& s, const std::string& location, const std::string& state) {
  std::string now;
  for (int i = 0; i < 300 && now != state; ++i) {
    now = std::string(Body(Get(s, location, s.viewer.secret))["state"].as_string());
    if (now != state) std::this_thread::sleep_for(100ms);
  }
  return now;
}

// Rolls `task` over `member` through the API and waits for its job to fail:
// the job's location.
std::string RollThatFails(const ApiServe& s, const std::string& task, const std::string& member) {
  HttpResult roll = Post(s, "/api/v1/roll", s.op.secret,
                         R"({"pool":"replicas","task":")" + task + R"(","limit":[")" + member + R"("],"reason":"r"})");
  REQUIRE(roll.status == 202);
  const std::string location = roll.Header("Location");
  REQUIRE(WaitForState(s, location, "failed") == "failed");
  return location;
}

}  // namespace

TEST_CASE("the API: maint start (an end required) and stop walk one member on serve, refusals are 409 with the "
          "CLI's sentence, and each walk's end is in the audit trail",
          "[serve][api]") {
  ApiServe s = ApiConfig("api-maint");
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));
  auto record_of = [&](const std::string& server) -> std::optional<json::object> {
    json::object list = Body(Get(s, "/api/v1/maintenance", s.viewer.secret));
    for (const json::value& v : list["maintenance"].as_array()) {
      if (v.as_object().at("server").as_string() == server) return v.as_object();
    }
    return std::nullopt;
  };
  auto walk_ended = [&](const std::string& member) -> std::string {
    for (int i = 0; i < 300; ++i) {
      json::object page = Body(Get(s, "/api/v1/audit?action=maint.walk.end&target=" + member, s.viewer.secret));
      if (!page["audit"].as_array().empty()) {
        return std::string(page["audit"].as_array()[0].as_object()["result"].as_string());
      }
      std::this_thread::sleep_for(100ms);
    }
    return "(never ended)";
  };

  CheckProblem(Post(s, "/api/v1/maintenance/start", s.op.secret, R"({"member":"replicas/db3","reason":"disk"})"), 400);
  CheckProblem(Post(s, "/api/v1/maintenance/start", s.op.secret,
                    R"({"member":"replicas/db3","for":"soon","reason":"disk"})"),
               400);
  CheckProblem(Post(s, "/api/v1/maintenance/start", s.op.secret, R"({"member":"replicas/db9","for":"1h","reason":"x"})"),
               404);
  CheckProblem(Post(s, "/api/v1/maintenance/start", s.viewer.secret,
                    R"({"member":"replicas/db3","for":"1h","reason":"x"})"),
               403);
  CHECK_FALSE(record_of("db3"));

  HttpResult start = Post(s, "/api/v1/maintenance/start", s.op.secret,
                          R"({"member":"replicas/db3","for":"2h","reason":"disk swap 42"})");
  INFO(start.head << start.body);
  REQUIRE(start.status == 202);
  CHECK(start.Header("Location") == "/api/v1/pools/replicas");
  const std::string started = walk_ended("replicas/db3");
  CHECK(started.rfind("ok: in maintenance", 0) == 0);
  std::optional<json::object> record = record_of("db3");
  REQUIRE(record);
  CHECK((*record)["phase"].as_string() == "maint");
  CHECK((*record)["who"].as_string() == "ci (api)");
  CHECK((*record)["reason"].as_string() == "disk swap 42");
  CHECK((*record)["until"].is_string());
  Run status = Caretaker("status --json --no-mysql", s.config);
  CHECK(status.out.find("\"server\":\"db3\",\"host\"") != std::string::npos);
  CHECK(status.out.find("\"admin\":\"MAINT\"") != std::string::npos);

  // Refused, with the sentence the CLI prints: a record there already, and
  // the budget (max_out 1 with db3 out).
  HttpResult again = Post(s, "/api/v1/maintenance/start", s.op.secret,
                          R"({"member":"replicas/db3","for":"1h","reason":"again"})");
  CheckProblem(again, 409);
  Run cli_again = Caretaker("maint start replicas/db3 --reason again --for 1h", s.config);
  CHECK(cli_again.exit_code != 0);
  CHECK(cli_again.err.find(std::string(Body(again)["detail"].as_string())) != std::string::npos);
  HttpResult budget = Post(s, "/api/v1/maintenance/start", s.op.secret,
                           R"({"member":"replicas/db4","for":"1h","reason":"one more"})");
  CheckProblem(budget, 409);
  const std::string refusal(Body(budget)["detail"].as_string());
  CHECK(refusal.rfind("refusing to take db4 out: pool replicas: ", 0) == 0);
  Run cli_budget = Caretaker("maint start replicas/db4 --reason \"one more\" --for 1h", s.config);
  CHECK(cli_budget.err.find(refusal) != std::string::npos);
  CHECK_FALSE(record_of("db4"));
  CheckProblem(Post(s, "/api/v1/maintenance/stop", s.op.secret, R"({"member":"replicas/db4","reason":"x"})"), 409);

  HttpResult stop = Post(s, "/api/v1/maintenance/stop", s.op.secret, R"({"member":"db3","reason":"disk swapped"})");
  INFO(stop.body);
  REQUIRE(stop.status == 202);
  bool back = false;
  for (int i = 0; i < 300 && !back; ++i) {
    json::object page = Body(Get(s, "/api/v1/audit?action=maint.walk.end&target=replicas/db3", s.viewer.secret));
    back = page["audit"].as_array().size() == 2 && !record_of("db3");
    if (!back) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(back);
  json::object ends = Body(Get(s, "/api/v1/audit?action=maint.walk.end", s.viewer.secret));
  CHECK(ends["audit"].as_array()[0].as_object()["result"].as_string().rfind("ok: back in service", 0) == 0);
  CHECK(Caretaker("status --no-mysql", s.config).exit_code == 0);
  // Each request's own row came first, with its result.
  json::object rows = Body(Get(s, "/api/v1/audit?action=api.maint.&limit=20", s.viewer.secret));
  int ok = 0, refused = 0;
  for (const json::value& v : rows["audit"].as_array()) {
    const std::string result(v.as_object().at("result").as_string());
    ok += result == "ok";
    refused += result.rfind("refused: ", 0) == 0;
  }
  CHECK(ok == 2);
  CHECK(refused >= 3);
  serve.Stop();
}

TEST_CASE("the API: a failed job's host stays out until POST restore puts it back on serve and ends the job "
          "restored; a restore refused is 409 with the CLI's sentence",
          "[serve][api]") {
  ApiServe s = ApiConfig("api-restore", "[[tasks]]\nname = \"broken\"\n  [[tasks.steps]]\n  name = \"fail\"\n"
                                        "  command = \"echo failing on {server}; false\"\n");
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));
  const std::string location = RollThatFails(s, "broken", "db2");
  const std::string id = location.substr(location.rfind('/') + 1);
  json::object list = Body(Get(s, "/api/v1/maintenance", s.viewer.secret));
  REQUIRE(list["maintenance"].as_array().size() == 1);
  CHECK(list["maintenance"].as_array()[0].as_object()["server"].as_string() == "db2");
  // Its host is the job's: maint stop says to restore the job.
  HttpResult stop = Post(s, "/api/v1/maintenance/stop", s.op.secret, R"({"member":"db2","reason":"x"})");
  CheckProblem(stop, 409);
  CHECK(Body(stop)["detail"].as_string().find("/api/v1/jobs/" + id + "/restore") != std::string::npos);

  HttpResult restore = Post(s, location + "/restore", s.op.secret, R"({"reason":"step fixed by hand"})");
  INFO(restore.body);
  REQUIRE(restore.status == 202);
  CHECK(Body(restore)["hosts"].as_array().size() == 1);
  REQUIRE(WaitForState(s, location, "restored") == "restored");
  CHECK(Body(Get(s, "/api/v1/maintenance", s.viewer.secret))["maintenance"].as_array().empty());
  json::object ends = Body(Get(s, "/api/v1/audit?action=job.restore.end", s.viewer.secret));
  REQUIRE(ends["audit"].as_array().size() == 1);
  CHECK(ends["audit"].as_array()[0].as_object()["result"].as_string() == "ok: job " + id + " restored: 1 host(s) put back");
  CHECK(Caretaker("status --no-mysql", s.config).exit_code == 0);

  // Again: the job has ended; the CLI says the same.
  HttpResult again = Post(s, location + "/restore", s.op.secret, R"({"reason":"twice"})");
  CheckProblem(again, 409);
  Run cli = Caretaker("job restore " + id, s.config);
  CHECK(cli.exit_code != 0);
  CHECK(cli.err.find(std::string(Body(again)["detail"].as_string())) != std::string::npos);
  CheckProblem(Post(s, "/api/v1/jobs/999999/restore", s.op.secret, R"({"reason":"x"})"), 404);
  serve.Stop();
}

TEST_CASE("the API: POST retry has serve go on with a failed job, running its failed step again, "
          "refused while halted and once it is done, with the CLI's sentences",
          "[serve][api]") {
  // Fails on each member the first time, works the second (the disk swapped).
  const std::string marker = RollSandbox().dir() + "/retry-fixed-";
  ApiServe s = ApiConfig("api-retry", "[[tasks]]\nname = \"flaky\"\n  [[tasks.steps]]\n  name = \"swap\"\n"
                                      "  command = \"if [ -f " + marker + "{server} ]; then echo swapped {server}; else "
                                      "touch " + marker + "{server}; echo disk busy on {server}; exit 1; fi\"\n");
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));
  const std::string location = RollThatFails(s, "flaky", "db3");
  const std::string id = location.substr(location.rfind('/') + 1);
  CHECK(AdminStates("db3") == "1 1");

  // Halted: refused, as `caretaker job retry` is.
  REQUIRE(Post(s, "/api/v1/halt", s.op.secret, R"({"reason":"incident 4412"})").status == 200);
  HttpResult halted = Post(s, location + "/retry", s.op.secret, R"({"reason":"disk swapped"})");
  CheckProblem(halted, 409);
  CHECK_THAT(std::string(Body(halted)["detail"].as_string()),
             Catch::Contains("incident 4412") && Catch::EndsWith("; nothing was changed"));
  REQUIRE(Post(s, "/api/v1/resume", s.op.secret, R"({"reason":"over"})").status == 200);
  CheckProblem(Post(s, location + "/retry", s.op.secret, R"({"reason":"x","from_step":0})"), 400);
  CheckProblem(Post(s, location + "/retry", s.viewer.secret, R"({"reason":"x"})"), 403);

  HttpResult retry = Post(s, location + "/retry", s.op.secret, R"({"reason":"disk swapped"})");
  INFO(retry.body);
  REQUIRE(retry.status == 202);
  json::object said = Body(retry);
  CHECK(said["members"].as_array().size() == 1);
  CHECK(said["location"].as_string() == location);
  REQUIRE(WaitForState(s, location, "done") == "done");
  CHECK(AdminStates("db3") == "0 0");
  CHECK(Body(Get(s, "/api/v1/maintenance", s.viewer.secret))["maintenance"].as_array().empty());
  json::object job = Body(Get(s, location, s.viewer.secret));
  CHECK(job["retry_asked_by"].is_null());  // taken by serve's claim
  // The job's log: the step failed, the retry was asked, the step ran again.
  json::object log = Body(Get(s, location + "/log", s.viewer.secret));
  std::string lines;
  for (const json::value& l : log["lines"].as_array()) {
    lines += std::string(l.as_object().at("action").as_string()) + ": " +
             std::string(l.as_object().at("detail").as_string()) + "\n";
  }
  INFO(lines);
  CHECK_THAT(lines, Catch::Contains("job.failed: ") && Catch::Contains("job.retry_requested: job " + id) &&
                        Catch::Contains("job.done: "));
  json::object audit = Body(Get(s, "/api/v1/audit?action=api.job.retry", s.viewer.secret));
  REQUIRE(audit["audit"].as_array().size() == 2);  // refused while halted, then ok
  CHECK(audit["audit"].as_array()[0].as_object()["result"].as_string() == "ok");

  // Done: nothing to retry, as the CLI says.
  HttpResult again = Post(s, location + "/retry", s.op.secret, R"({"reason":"twice"})");
  CheckProblem(again, 409);
  Run cli = Caretaker("job retry " + id + " --yes", s.config);
  CHECK(cli.exit_code != 0);
  CHECK(cli.err.find(std::string(Body(again)["detail"].as_string())) != std::string::npos);
  CheckProblem(Post(s, "/api/v1/jobs/999999/retry", s.op.secret, R"({"reason":"x"})"), 404);
  serve.Stop();
}

}  // namespace caretaker
