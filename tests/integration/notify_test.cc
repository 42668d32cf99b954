// Notifications ([[notify]], src/run/notifier.h) from `caretaker serve` on
// the real sandbox to a webhook receiver of the harness
// (tests/sandbox/webhook.h): every event kind serve meets reaches it once,
// with its fields and the secret header; failures are retried; a receiver
// that hangs does not slow a walk.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <chrono>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/serve_fixture.h"
#include "tests/sandbox/webhook.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using sandbox::WebhookRequest;

const char* kSecret = "s3cr3t-hook-token";

std::string SecretFile() {
  const std::string path = WriteFileIn(RollSandbox(), "hook.secret", std::string(kSecret) + "\n");
  ::chmod(path.c_str(), 0600);
  return path;
}

std::string Notify(const sandbox::WebhookReceiver& hook, const std::string& extra = "") {
  return "[[notify]]\nname = \"chat\"\nurl = \"" + hook.url() + "\"\nsecret_header = \"X-Hook-Token\"\n"
         "secret_file = \"" + SecretFile() + "\"\ntimeout = \"2s\"\n" + extra;
}

// The value of a string field of a JSON body ("" when absent).
std::string Field(const std::string& body, const std::string& key) {
  std::smatch m;
  if (std::regex_search(body, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return m[1];
  return "";
}

std::function<bool(const WebhookRequest&)> Kind(const std::string& kind, const std::string& server = "") {
  return [=](const WebhookRequest& r) {
    return Field(r.body, "kind") == kind && (server.empty() || Field(r.body, "server") == server);
  };
}

const std::string kFailingTask =
    "[[tasks]]\nname = \"broken\"\n  [[tasks.steps]]\n  name = \"upgrade\"\n  command = \"echo no space left; false\"\n";

void StopSql(size_t i) { RollSandbox().Sql(RollSandbox().replicas()[i], "STOP SLAVE SQL_THREAD"); }
void StartSql(size_t i) { RollSandbox().Sql(RollSandbox().replicas()[i], "START SLAVE SQL_THREAD"); }

}  // namespace

TEST_CASE("every event serve meets reaches the webhook once, with its fields and the secret header",
          "[serve][notify]") {
  sandbox::WebhookReceiver hook;
  const std::string config = ConfigWith(
      "notify.toml", Notify(hook) + kSlowTask + kFailingTask +
                         "[[rules]]\nname = \"sql\"\nwhen = \"replication is stopped\"\nfor = \"1s\"\n"
                         "clear_for = \"1s\"\ninterval = \"1s\"\ncooldown = \"1s\"\n");
  // Out of traffic before serve starts, its record expiring: re-announced
  // at the start, and its expiry told.
  REQUIRE(Caretaker("maint start db1 --reason disk-swap --for 1s", config).exit_code == 0);
  std::this_thread::sleep_for(1500ms);
  Served serve = Serve(config);
  CHECK(hook.WaitFor(Kind("host.left_out", "db1"), 15s));
  CHECK(hook.WaitFor(Kind("maint.expired", "db1"), 15s));
  REQUIRE(Caretaker("maint stop db1", config).exit_code == 0);

  const std::string done = Queue("--pool replicas --task slow --limit db2", config);
  CHECK(WaitForJob(done, "done", config));
  CHECK(hook.WaitFor(Kind("job.done"), 10s));

  // Halted, a rule firing is refused by the halt; resumed, it acts.
  REQUIRE(Caretaker("halt --reason incident-42", config).exit_code == 0);
  CHECK(hook.WaitFor(Kind("halt"), 10s));
  StopSql(2);
  CHECK(hook.WaitFor(Kind("rule.refused", "db3"), 15s));
  REQUIRE(Caretaker("resume", config).exit_code == 0);
  CHECK(hook.WaitFor(Kind("resume"), 10s));
  CHECK(hook.WaitFor(Kind("rule.action", "db3"), 20s));
  StartSql(2);
  CHECK(hook.WaitFor([](const WebhookRequest& r) {
    return Field(r.body, "kind") == "rule.action" && Field(r.body, "reason").starts_with("repool done");
  }, 30s));

  // A job whose step fails leaves its host out of traffic.
  const std::string failed = Queue("--pool replicas --task broken --limit db4", config);
  CHECK(WaitForJob(failed, "failed", config));
  CHECK(hook.WaitFor(Kind("job.failed"), 10s));
  CHECK(hook.WaitFor(Kind("host.left_out", "db4"), 10s));
  REQUIRE(Caretaker("job restore " + failed, config).exit_code == 0);

  // serve stopping pauses a running job: told before it exits.
  const std::string paused = Queue("--pool replicas --task slow", config);
  CHECK(hook.WaitFor([&](const WebhookRequest& r) {
    return Field(r.body, "kind") == "job.started" && r.body.find("\"job\":" + paused + ",") != std::string::npos;
  }, 20s));
  Run served = serve.Stop();
  INFO(served.err);
  CHECK(served.exit_code == 0);
  CHECK(hook.WaitFor(Kind("job.paused"), 1s));  // delivered before serve exited
  CHECK(served.err.find(kSecret) == std::string::npos);
  CHECK(served.err.find("notify.failed") == std::string::npos);

  // Every request: a POST of JSON with the secret header, and each event id once.
  std::map<std::string, int> ids;
  std::set<std::string> kinds;
  for (WebhookRequest& r : hook.Requests()) {
    INFO(r.body);
    CHECK(r.method == "POST");
    CHECK(r.target == "/hook");
    CHECK(r.headers["content-type"] == "application/json");
    CHECK(r.headers["x-hook-token"] == kSecret);
    CHECK(r.headers["x-caretaker-event"] == Field(r.body, "kind"));
    CHECK(r.headers["x-caretaker-event-id"] == Field(r.body, "id"));
    CHECK(Field(r.body, "text").starts_with("caretaker: "));
    ++ids[Field(r.body, "id")];
    kinds.insert(Field(r.body, "kind"));
  }
  for (const auto& [id, n] : ids) CHECK(n == 1);
  for (const char* k : {"host.left_out", "maint.expired", "job.started", "job.done", "job.failed", "job.paused", "halt",
                        "resume", "rule.refused", "rule.action"}) {
    INFO(k);
    CHECK(kinds.count(k) == 1);
  }
  // Fields of one of each.
  for (const WebhookRequest& r : hook.Requests()) {
    const std::string kind = Field(r.body, "kind");
    if (kind == "job.started" && r.body.find("\"job\":" + done + ",") != std::string::npos) {
      CHECK(Field(r.body, "pool") == "replicas");
      CHECK_FALSE(Field(r.body, "who").empty());
    }
    if (kind == "halt") CHECK(Field(r.body, "reason").find("incident-42") != std::string::npos);
    if (kind == "rule.refused") {
      CHECK(Field(r.body, "rule") == "sql");
      CHECK(Field(r.body, "who") == "rule:sql");
      CHECK(Field(r.body, "reason").find("halt") != std::string::npos);
    }
    if (kind == "host.left_out" && Field(r.body, "server") == "db4") {
      CHECK(r.body.find("\"job\":" + failed + ",") != std::string::npos);
      CHECK(Field(r.body, "text").find("OUT OF TRAFFIC") != std::string::npos);
    }
  }
  // Leave the sandbox as found: the paused job cancelled (its hosts back).
  Run restore = Caretaker("job restore " + paused, config);
  (void)Caretaker("job cancel " + paused, config);
  CheckNothingOutWithoutRecord(config);
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
}

TEST_CASE("a webhook that fails is retried until it takes the event; one that never does is logged and counted",
          "[serve][notify]") {
  sandbox::WebhookReceiver hook;
  hook.FailNext(2);
  const std::string config = ConfigWith("notify-retry.toml", Notify(hook, "retries = 3\nevents = [\"job.*\"]\n") + kSlowTask);
  Served serve = Serve(config);
  const std::string id = Queue("--pool replicas --task slow --limit db2", config);
  CHECK(WaitForJob(id, "done", config));
  // job.started failed twice, then was taken (1 s, 2 s later).
  CHECK(hook.WaitFor([](const WebhookRequest& r) { return Field(r.body, "kind") == "job.started" && r.answered == 200; }, 15s));
  CHECK(hook.WaitFor(Kind("job.done"), 15s));
  Run served = serve.Stop();
  INFO(served.err);
  size_t started = 0;
  for (const WebhookRequest& r : hook.Requests()) started += Field(r.body, "kind") == "job.started";
  CHECK(started == 3);
  CHECK(served.err.find("notify.failed") == std::string::npos);

  // Never taken: retries = 1, every answer 500.
  sandbox::WebhookReceiver broken;
  broken.FailNext(1000);
  const std::string config2 = ConfigWith("notify-broken.toml", Notify(broken, "retries = 1\nevents = [\"job.started\"]\n") + kSlowTask);
  Served again = Serve(config2);
  const std::string id2 = Queue("--pool replicas --task slow --limit db3", config2);
  CHECK(WaitForJob(id2, "done", config2));
  const bool logged = WaitForText(again.proc.err_path, "notify.failed notify=chat", 10s);
  Run second = again.Stop();
  INFO(second.err);
  CHECK(logged);
  CHECK(second.err.find("error=\"HTTP 500\"") != std::string::npos);
  CHECK(broken.Requests().size() == 2);  // the first attempt and one retry
  CHECK(second.err.find(kSecret) == std::string::npos);
}

TEST_CASE("a hung webhook does not slow a walk: makespan with and without it", "[serve][notify]") {
  // The hung receiver's deliveries each wait 30 s (its timeout): a walk
  // that waited on one would take at least that much longer.
  auto makespan = [](const std::string& name, sandbox::WebhookReceiver& hook, const std::string& timeout) {
    const std::string config =
        ConfigWith(name, Replaced(Notify(hook, ""), "timeout = \"2s\"", "timeout = \"" + timeout + "\"") + kSlowTask);
    Served serve = Serve(config);
    const auto start = std::chrono::steady_clock::now();
    const std::string id = Queue("--pool replicas --task slow", config);
    CHECK(WaitForJob(id, "done", config, 120s));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    serve.Stop();
    return seconds;
  };
  sandbox::WebhookReceiver ok;
  const double with_ok = makespan("notify-ok.toml", ok, "30s");
  sandbox::WebhookReceiver hung;
  hung.Hang(true);
  const double with_hung = makespan("notify-hung.toml", hung, "30s");
  std::printf("walk makespan (4 members, slow task): %.2f s with a webhook that answers, %.2f s with one that hangs\n",
              with_ok, with_hung);
  // The hung receiver got the first event (job.started) and never answered
  // it: the walk ran to its end meanwhile.
  REQUIRE_FALSE(hung.Requests().empty());
  for (const WebhookRequest& r : hung.Requests()) CHECK(r.answered == 0);
  CHECK(with_hung < with_ok + 10.0);
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
}

}  // namespace caretaker
