// The fake replica probe answers from its script and records what was asked.
#include <catch2/catch.hpp>

#include "mysql/fake_probe.h"
#include "tests/integration/run_sync.h"

namespace caretaker::mysql {
namespace {

ReplicaStatus Running(std::chrono::milliseconds lag) {
  ReplicaStatus s;
  s.io_thread = ThreadState::kYes;
  s.sql_thread = ThreadState::kYes;
  s.lag = lag;
  return s;
}

Target At(uint16_t port) {
  Target t;
  t.port = port;
  return t;
}

TEST_CASE("the fake probe plays its script per server and repeats the last answer", "[mysql]") {
  // Given db1 lagging then caught up, and nothing scripted for db2.
  FakeReplicaProbe fake;
  fake.Script("127.0.0.1:3301", Running(std::chrono::seconds(30)));
  ReplicaStatus warm = Running(std::chrono::seconds(0));
  warm.warmup = ParseBufferPoolLoad("Loaded 41/100 pages");
  fake.Script("127.0.0.1:3301", warm);
  auto probe = [&](uint16_t port) { return testing::RunSync(fake.Probe(At(port), ProbeOptions{})); };

  CHECK(probe(3301).value().lag == std::chrono::seconds(30));
  CHECK(probe(3301).value().lag == std::chrono::seconds(0));
  CHECK(probe(3301).value().warmup->loaded == 41);  // the scripted status, whole
  auto none = probe(3302);
  REQUIRE_FALSE(none);
  CHECK(none.error().code == ErrorCode::kConnect);
  CHECK(fake.probed() ==
        std::vector<std::string>{"127.0.0.1:3301", "127.0.0.1:3301", "127.0.0.1:3301", "127.0.0.1:3302"});
}

}  // namespace
}  // namespace caretaker::mysql
