// The API's changes to jobs on the real sandbox, walked by serve: a failed
// job's host put back by POST restore; a failed job gone on with by POST
// retry, its failed step run again as `caretaker job retry` does; each
// refusal a 409 with the CLI's sentence.
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

}  // namespace

TEST_CASE("the API: a failed job's host stays out until POST restore puts it back on serve and ends the job "
          "restored; a restore refused is 409 with the CLI's sentence",
          "[serve][api]") {
  ApiServe s = ApiConfig("api-restore", "[[tasks]]\nname = \"broken\"\n  [[tasks.steps]]\n  name = \"fail\"\n"
                                        "  command = \"echo failing on {server}; false\"\n");
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));
  HttpResult roll = Post(s, "/api/v1/roll", s.op.secret, R"({"pool":"replicas","task":"broken","limit":["db2"],"reason":"r"})");
  REQUIRE(roll.status == 202);
  const std::string location = roll.Header("Location");
  const std::string id = location.substr(location.rfind('/') + 1);
  REQUIRE(WaitForState(s, location, "failed") == "failed");
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
  HttpResult roll = Post(s, "/api/v1/roll", s.op.secret, R"({"pool":"replicas","task":"flaky","limit":["db3"],"reason":"r"})");
  REQUIRE(roll.status == 202);
  const std::string location = roll.Header("Location");
  const std::string id = location.substr(location.rfind('/') + 1);
  REQUIRE(WaitForState(s, location, "failed") == "failed");
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
