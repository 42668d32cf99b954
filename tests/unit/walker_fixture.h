// The pool of the walker scenarios: four replicas db1..db4 in backend
// "replicas", a two-step task, and the exact commands of a member's walk.
// Shared by walker_test.cc and walker_failures_test.cc.
#pragma once

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "tests/unit/walker_world.h"

namespace caretaker::walker_testing {

inline StepConfig NamedStep(std::string name) {
  StepConfig step;
  step.name = std::move(name);
  step.argv = {"true"};
  return step;
}

// min_in_service 2 of 4, max_out `max_out`; sessions counted every 1s for
// at most 2m; probes every 1s, one good read is caught up; READY must be UP
// within 30s; steps "upgrade" and "restart" (10s each in the world).
inline WalkSpec Spec(size_t max_out = 1) {
  WalkSpec spec;
  spec.pool = "replicas";
  spec.members = {"db1", "db2", "db3", "db4"};
  spec.capacity.min_in_service = policies::Limit::Count(2);
  spec.capacity.max_out = policies::Limit::Count(max_out);
  spec.drain.deadline = 2min;
  spec.drain.poll_interval = 1s;
  spec.gates.probe_interval = 1s;
  spec.gates.catch_up_reads = 1;
  spec.gates.max_lag = 5s;
  spec.gates.enable_timeout = 30s;
  spec.gates.ramp_hold = 30s;
  spec.steps = {NamedStep("upgrade"), NamedStep("restart")};
  spec.pause_deadline = 30min;
  spec.max_failures = 1;
  return spec;
}

inline std::vector<std::string> Pool() { return {"db1", "db2", "db3", "db4"}; }

inline std::string Set(const std::string& server, const std::string& what) {
  return "set server replicas/" + server + " " + what;
}

// The records and commands of both steps and the gates' first probe: each
// step may have run from its "steps" record, "maint, next step N" once it
// ended well, "gates" before the first probe.
inline std::vector<std::string> Steps(const std::string& s) {
  return {"journal " + s + " steps",           "step " + s + " upgrade", "journal " + s + " maint, next step 2",
          "journal " + s + " steps, step 2", "step " + s + " restart", "journal " + s + " maint, next step 3",
          "journal " + s + " gates"};
}

// Drain, maint, both steps, ready, record removed: a member's whole walk.
// `gates` false: every gate off, so no probe and no "gates" record.
inline std::vector<std::string> Walked(const std::string& s, bool gates = true) {
  std::vector<std::string> all = {"journal " + s + " draining", Set(s, "state drain"), "journal " + s + " maint",
                                  Set(s, "state maint")};
  for (std::string& c : Steps(s)) all.push_back(std::move(c));
  if (!gates) all.pop_back();
  for (std::string c : {"journal " + s + " enabling", Set(s, "state ready"), "release " + s}) all.push_back(c);
  return all;
}

// The first part of a member's walk: drained, in MAINT, first step started.
inline std::vector<std::string> IntoSteps(const std::string& s) {
  return {"journal " + s + " draining", Set(s, "state drain"), "journal " + s + " maint", Set(s, "state maint"),
          "journal " + s + " steps",    "step " + s + " upgrade"};
}

inline std::vector<std::string> Cat(std::initializer_list<std::vector<std::string>> parts) {
  std::vector<std::string> all;
  for (const auto& part : parts) all.insert(all.end(), part.begin(), part.end());
  return all;
}

inline const HostStatus& StatusOf(const Walker& walker, const std::string& server) {
  for (const HostStatus& s : walker.hosts()) {
    if (s.server == server) return s;
  }
  return walker.hosts().front();
}

// The global cap: `cap` members out at once, counting this walk's.
inline std::function<size_t(const Walker&)> Cap(size_t cap) {
  return [cap](const Walker& w) { return w.active() < cap ? cap - w.active() : size_t{0}; };
}

// Runs the walk to its end; on anything else, says what the driver saw.
#define REQUIRE_FINISHED(world, walker)                       \
  do {                                                        \
    const World::End end_ = (world).Run(walker);              \
    INFO("driver: " << (world).trouble);                      \
    REQUIRE(end_ == World::End::kFinished);                   \
  } while (false)

// Every member but `walked` never started.
inline void CheckOthersPending(const Walker& walker, const std::vector<std::string>& walked) {
  for (const HostStatus& s : walker.hosts()) {
    if (std::find(walked.begin(), walked.end(), s.server) != walked.end()) continue;
    INFO(s.server);
    CHECK(s.phase == HostPhase::kPending);
  }
}

}  // namespace caretaker::walker_testing
