// Gates a task turned off (GatesConfig::off): skipped, never silently.
#include <catch2/catch.hpp>

#include "tests/unit/gates_fixture.h"

namespace caretaker::gates_testing {
namespace {

std::vector<Gate> PassedGates(const HealthGates& gates) {
  std::vector<Gate> out;
  for (const auto& [gate, took] : gates.passed()) out.push_back(gate);
  return out;
}

TEST_CASE("mysqld off: every gate is off, nothing is probed", "[gates]") {
  // given: the loader's rule (mysqld off needs the others off); expect: passed at once.
  GatesConfig g = Gates();
  g.off = GatesOff{true, true, true, true};
  HealthGates gates(g, t0);
  CHECK(gates.step().action == Action::kPassed);
  CHECK(gates.step().text == "every gate is off");
  CHECK(gates.passed().empty());
}

TEST_CASE("catch-up off: a replica far behind passes once mysqld and replication did", "[gates]") {
  GatesConfig g = Gates();
  g.off.catch_up = true;
  HealthGates gates(g, t0);
  gates.OnProbe(Replica(std::chrono::hours(1)), t0);
  CHECK(gates.step().action == Action::kPassed);
  CHECK(PassedGates(gates) == std::vector<Gate>{Gate::kMysqld, Gate::kReplication, Gate::kWarmup});
}

TEST_CASE("replication off: stopped threads do not hold the server (catch-up off too)", "[gates]") {
  GatesConfig g = Gates();
  g.off.replication = true;
  g.off.catch_up = true;
  HealthGates gates(g, t0);
  gates.OnProbe(Threads(ThreadState::kNo, ThreadState::kNo, "Duplicate entry"), t0);
  CHECK(gates.step().action == Action::kPassed);
  CHECK(PassedGates(gates) == std::vector<Gate>{Gate::kMysqld, Gate::kWarmup});
}

TEST_CASE("warm-up off: passes after catch-up without reading the buffer pool", "[gates]") {
  GatesConfig g = Gates();
  g.off.warmup = true;
  HealthGates gates(g, t0);
  for (int i = 0; i < 3; ++i) gates.OnProbe(Replica(0s, /*warmup=*/nullptr), t0 + i * 1s);
  CHECK(gates.step().action == Action::kPassed);
  CHECK(PassedGates(gates) == std::vector<Gate>{Gate::kMysqld, Gate::kReplication, Gate::kCatchUp});
}

TEST_CASE("a gate that is on still holds: catch-up on, warm-up off, lag too high", "[gates]") {
  GatesConfig g = Gates();
  g.off.warmup = true;
  HealthGates gates(g, t0);
  gates.OnProbe(Replica(60s), t0);
  CHECK(gates.step().gate == Gate::kCatchUp);
  CHECK(gates.step().action == Action::kProbe);
}

}  // namespace
}  // namespace caretaker::gates_testing
