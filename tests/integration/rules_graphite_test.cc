// Rules of source "graphite" in `caretaker serve` and `rules test` on the
// real sandbox, against a real carbon-cache + graphite-web
// (tests/sandbox/graphite.h; started once for this binary) that the test
// feeds with a lag datapoint per replica every half second: a replica whose
// points say it lags is depooled; when its points stop, it is unknown (stale,
// never repooled on a guess); once they say it caught up, it is repooled.
// graphite-web stopped is one sentence and a non-zero exit.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include "tests/integration/serve_fixture.h"
#include "tests/sandbox/graphite.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

sandbox::Graphite& Carbon() {
  static std::unique_ptr<sandbox::Graphite> g = sandbox::Graphite::Start();
  return *g;
}

// Sends mysql.dbN.lag for every replica every half second while it lives;
// a negative value sends nothing for that member (its points stop).
class Feeder {
 public:
  Feeder() : thread_([this] { Run(); }) {}
  ~Feeder() {
    stop_ = true;
    thread_.join();
  }
  void Set(size_t i, double v) { values_[i] = v; }

 private:
  void Run() {
    while (!stop_) {
      std::string lines;
      const std::string now = std::to_string(std::time(nullptr));
      for (size_t i = 0; i < values_.size(); ++i) {
        if (values_[i] >= 0) lines += "mysql.db" + std::to_string(i + 1) + ".lag " + std::to_string(values_[i].load()) + " " + now + "\n";
      }
      try {
        if (!lines.empty()) Carbon().Send(lines);
      } catch (const std::exception&) {
        // carbon busy: the next round sends again
      }
      std::this_thread::sleep_for(500ms);
    }
  }
  std::array<std::atomic<double>, 4> values_{0.0, 0.0, 0.0, 0.0};
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string GraphiteRule(const std::string& name) {
  return "[[graphite]]\nurl = \"" + Carbon().url() + "\"\ntimeout = \"3s\"\n"
         "[[rules]]\nname = \"" + name + "\"\nsource = \"graphite\"\ntarget = \"mysql.{server}.lag\"\nmax_age = \"5s\"\n"
         "when = \"value > 30\"\nclear = \"value < 5\"\nfor = \"2s\"\nclear_for = \"1s\"\ninterval = \"1s\"\n"
         "cooldown = \"1s\"\n";
}

}  // namespace

TEST_CASE("a graphite rule depools a replica its datapoints say lags, holds it while they are stale, repools it "
          "once they say it caught up",
          "[serve][rules][graphite]") {
  const std::string config = ConfigWith("rules-graphite.toml", GraphiteRule("graphite-lag"));
  Feeder feed;
  feed.Set(1, 42);
  std::this_thread::sleep_for(1500ms);
  Run test = Caretaker("rules test graphite-lag", config);
  INFO(test.out << test.err);
  CHECK(test.exit_code == 0);
  CHECK(test.out.find("replicas/db2: HOLDS: value 42") != std::string::npos);
  CHECK(test.out.find("replicas/db1: no: value 0") != std::string::npos);

  Served serve = Serve(config);
  const bool out = WaitForText(serve.proc.err_path,
                               "rule.act.end rule=graphite-lag action=depool target=replicas/db2 result=done", 30s);
  CHECK(out);
  CHECK(AdminStates("db2") == "1 1");
  feed.Set(1, -1);  // db2's points stop
  std::this_thread::sleep_for(7s);  // past max_age
  Run stale = Caretaker("rules test graphite-lag", config);
  CHECK(stale.out.find("replicas/db2: unknown: no datapoint of mysql.db2.lag within max_age 5s") != std::string::npos);
  CHECK(AdminStates("db2") == "1 1");  // never repooled on a guess
  feed.Set(1, 0);
  const bool back = WaitForText(serve.proc.err_path,
                                "rule.act.end rule=graphite-lag action=repool target=replicas/db2 result=done", 40s);
  Run served = serve.Stop();
  INFO(served.err << stale.out);
  CHECK(back);
  const size_t depooled = served.err.find("rule.act.end rule=graphite-lag action=depool target=replicas/db2 result=done");
  const size_t repooled = served.err.find("rule.act.end rule=graphite-lag action=repool target=replicas/db2 result=done");
  CHECK(depooled != std::string::npos);
  CHECK(repooled != std::string::npos);
  CHECK(repooled > depooled);
  CHECK(served.exit_code == 0);
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
}

TEST_CASE("graphite-web down is one sentence naming the server and the target, exit 1, nothing changed",
          "[serve][rules][graphite]") {
  const std::string config = ConfigWith("rules-graphite-down.toml", GraphiteRule("graphite-down"));
  Carbon().StopWeb();
  Run test = Caretaker("rules test graphite-down", config);
  Carbon().StartWeb();
  INFO(test.out << test.err);
  CHECK(test.exit_code == 1);
  CHECK(test.err == "caretaker: rule graphite-down: graphite graphite (" + Carbon().url() +
                        "): target 'mysql.*.lag': cannot connect to 127.0.0.1:" + std::to_string(Carbon().web_port()) +
                        ": Connection refused\n");
  for (const char* m : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(m) == "0 0");
}

}  // namespace caretaker
