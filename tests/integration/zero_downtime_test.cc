// Zero downtime, judged from the application's side: a full rolling restart
// of the walk sandbox (4 replicas behind 2 HAProxy instances) under a read
// load through both frontends (tests/sandbox/load.h), with HAProxy sampled
// every 50 ms. caretaker is run as a user runs it; only the harness judges.

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <set>
#include <string>
#include <thread>

#include "tests/integration/roll_fixture.h"
#include "tests/sandbox/load.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using sandbox::ClientKind;
using sandbox::LoadReport;

constexpr int kMembers = 4;
constexpr int kMaxOut = 2;
constexpr int kFloor = 2;  // the default min_in_service "50%" of 4 members, rounded up

// The sandbox's config with max_out 2 and a drain that waits 2 s for
// sessions to end, then shuts the rest down.
std::string LoadConfig() {
  std::string text = Replaced(ConfigText(RollSandbox()), "backend = \"replicas\"\n",
                              "backend = \"replicas\"\nmax_out = " + std::to_string(kMaxOut) + "\n");
  text = Replaced(text, "[defaults.drain]\ndeadline = \"10s\"\n",
                  "[defaults.drain]\ndeadline = \"2s\"\non_timeout = \"shutdown\"\n");
  return WriteFileIn(RollSandbox(), "zero-downtime.toml", text);
}

struct Walk {
  Run roll;
  LoadReport load;
  sandbox::LoadClock::time_point started, ended;
  double Seconds() const { return std::chrono::duration<double>(ended - started).count(); }
};

// `caretaker roll` of the whole pool through the restart task, the load
// running from 1 s before it to 1 s after. A failed roll's job is restored,
// so the sandbox is left as found.
Walk RollUnderLoad(const std::string& config, const sandbox::LoadOptions& options) {
  RollSandbox().WaitAllUp(10s);
  auto load = sandbox::Load::Start(RollSandbox(), options);
  std::this_thread::sleep_for(1s);
  Walk walk;
  walk.started = sandbox::LoadClock::now();
  // Spawned with no fd of the test above 2 (cli_run.h): an inherited socket
  // of the load would hold a session that no client owns.
  walk.roll = RunCaretaker(RollSandbox(), "roll --pool replicas --task restart --yes", config);
  walk.ended = sandbox::LoadClock::now();
  std::this_thread::sleep_for(1s);
  walk.load = load->Stop();
  if (walk.roll.exit_code != 0) {
    Run restore = Caretaker("job restore " + JobIdOf(walk.roll.err), config);
    UNSCOPED_INFO("job restore: exit " << restore.exit_code << "\n" << restore.out << restore.err);
  }
  std::printf("\n== zero downtime: rolling restart of %d replicas under load (max_out %d, floor %d) ==\n"
              "roll: exit %d, walk %.1f s\n%s",
              kMembers, kMaxOut, kFloor, walk.roll.exit_code, walk.Seconds(), walk.load.Summary().c_str());
  std::fflush(stdout);
  return walk;
}

bool OutOfTraffic(const std::string& status) { return status.rfind("DRAIN", 0) == 0 || status.rfind("MAINT", 0) == 0; }

// Every reconnect is one `shutdown sessions` closed: the connection was closed
// under the client (2013/2006, not a KILL's 1927), and on that frontend's
// instance the replica it was on was out of traffic (DRAIN or MAINT) in the
// sample just before. A replica stopped in service fails the second check.
void CheckReconnectsAreShutdowns(const LoadReport& load) {
  for (const sandbox::Reconnect& r : load.reconnects) {
    INFO(sandbox::KindName(r.kind) << " client " << r.client << " via " << load.instance_names[r.instance]
                                   << ", was on " << r.server << ": " << r.error);
    CHECK((r.error_code == 2013 || r.error_code == 2006));
    const sandbox::Sample* before = load.SampleBefore(r.instance, r.at);
    REQUIRE(before != nullptr);
    auto status = before->status.find(r.server);
    REQUIRE(status != before->status.end());
    INFO("its status in the sample before: " << status->second);
    CHECK(OutOfTraffic(status->second));
  }
}

// Each sticky connection is cut where it is when its member drains: at least
// once, and never twice on one member.
void CheckStickyClients(const LoadReport& load) {
  int sticky = 0;
  for (size_t client = 0; client < load.clients.size(); ++client) {
    if (load.clients[client] != ClientKind::kSticky) continue;
    ++sticky;
    std::multiset<std::string> cut_on;
    for (const sandbox::Reconnect& r : load.reconnects) {
      if (r.client == static_cast<int>(client)) cut_on.insert(r.server);
    }
    INFO("sticky client " << client);
    CHECK(cut_on.size() >= 1);
    CHECK(cut_on.size() <= static_cast<size_t>(kMembers));
    for (const std::string& server : cut_on) CHECK(cut_on.count(server) == 1);
  }
  CHECK(sticky > 0);
}

// The sampler saw the whole walk, and never fewer members in service than
// the policy allows, on any instance.
void CheckCapacity(const Walk& walk) {
  for (size_t i = 0; i < walk.load.samples.size(); ++i) {
    const auto& samples = walk.load.samples[i];
    INFO(walk.load.instance_names[i]);
    REQUIRE(!samples.empty());
    CHECK(samples.front().at < walk.started);
    CHECK(samples.back().at > walk.ended);
    CHECK(static_cast<double>(samples.size()) > walk.Seconds() * 10);
    CHECK(walk.load.MinInService(i) >= kFloor);
    CHECK(walk.load.MinInService(i) >= kMembers - kMaxOut);
  }
  CHECK(walk.load.sampler_errors == 0);
}

TEST_CASE("a rolling restart under load: no query fails, sessions move only when shut down, the floor holds",
          "[load]") {
  // given: max_out 2 (floor 50% = 2 of 4), a drain that waits 2 s then shuts
  // sessions down; short-connection clients, pooled clients with a 1 s max
  // lifetime (they leave a draining server on their own) and sticky ones (1 h).
  // expect: the roll succeeds; no query fails; only sticky clients reconnect,
  // each only when `shutdown sessions` cut it off a drained member; never
  // fewer than 2 of 4 members in service on either instance.
  sandbox::LoadOptions options;  // 2 short, 2 pooled (1 s), 2 sticky (1 h)
  Walk walk = RollUnderLoad(LoadConfig(), options);
  const LoadReport& load = walk.load;
  INFO(walk.roll.out << walk.roll.err << load.Summary());
  CHECK(walk.roll.exit_code == 0);
  CHECK(walk.roll.out.find("pool replicas: 4 of 4 done in ") != std::string::npos);
  for (ClientKind kind : {ClientKind::kShort, ClientKind::kPooled, ClientKind::kSticky}) {
    INFO(sandbox::KindName(kind) << " clients");
    CHECK(load.Of(kind).errors == 0);
    CHECK(load.Of(kind).queries > 300);
  }
  CHECK(load.Of(ClientKind::kPooled).reconnects == 0);
  CheckReconnectsAreShutdowns(load);
  CheckStickyClients(load);
  CheckCapacity(walk);
  REQUIRE_NOTHROW(RollSandbox().WaitAllUp(30s));
  CHECK(Caretaker("maint list --json").out.find("\"maintenance\":[]") != std::string::npos);
}

}  // namespace
}  // namespace caretaker

