// `caretaker serve` in the background on the walk tests' sandbox
// (roll_fixture.h), and waiting for what it does: a text in its log, a job
// reaching a state.
#pragma once

#include <signal.h>

#include <chrono>
#include <regex>
#include <string>
#include <thread>
#include <utility>

#include "tests/integration/roll_fixture.h"

namespace caretaker {

struct Served {
  Spawned proc;
  bool reaped = false;

  explicit Served(Spawned spawned) : proc(std::move(spawned)) {}
  Served(Served&& other) noexcept : proc(other.proc), reaped(std::exchange(other.reaped, true)) {}
  Served& operator=(Served&&) = delete;
  // A test that ended early (a failed REQUIRE) leaves no serve behind to
  // hold the state dir's lock for the next one: SIGTERM, then SIGKILL
  // after 20 s.
  ~Served() {
    if (reaped) return;
    ::kill(proc.pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(proc.pid, &status, WNOHANG) == proc.pid) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(proc.pid, SIGKILL);
    ::waitpid(proc.pid, &status, 0);
  }
  // Sends SIGTERM and waits for it to exit.
  Run Stop() {
    ::kill(proc.pid, SIGTERM);
    reaped = true;
    return Finish(proc);
  }
};

// Waits for a process that a failpoint should kill; one still alive after a
// minute is stopped with SIGTERM (so its signal is not SIGKILL).
inline Run Killed(Served served) {
  for (int i = 0; i < 600; ++i) {
    int status = 0;
    if (::waitpid(served.proc.pid, &status, WNOHANG) == served.proc.pid) {
      served.reaped = true;
      return Collect(served.proc, status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return served.Stop();
}

inline Served Serve(const std::string& config, const std::string& failpoint = "") {
  return Served{SpawnCaretaker(RollSandbox(), "serve", config, failpoint)};
}

// The job id `roll --queue` printed ("job 12 queued: ...").
inline std::string QueuedIdOf(const std::string& out) {
  std::smatch m;
  if (std::regex_search(out, m, std::regex("job ([0-9]+) queued"))) return m[1];
  return "";
}

// Queues a job (roll --queue ... --yes) and returns its id.
inline std::string Queue(const std::string& args, const std::string& config) {
  Run queued = Caretaker("roll --queue --yes " + args, config);
  INFO(queued.out << queued.err);
  REQUIRE(queued.exit_code == 0);
  std::string id = QueuedIdOf(queued.out);
  REQUIRE_FALSE(id.empty());
  return id;
}

// The job's state as `job show --json` says it ("" when it cannot be read).
inline std::string JobState(const std::string& id, const std::string& config) {
  Run show = Caretaker("job show " + id + " --json", config);
  std::smatch m;
  if (std::regex_search(show.out, m, std::regex("\"state\":\"([a-z]+)\""))) return m[1];
  return "";
}

// Waits until job `id` is in `state`, at most `timeout`.
inline bool WaitForJob(const std::string& id, const std::string& state, const std::string& config,
                       std::chrono::seconds timeout = std::chrono::seconds(60)) {
  for (auto until = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < until;) {
    if (JobState(id, config) == state) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

// Runs serve until job `id` is in `state` (at most a minute), then stops it
// with SIGTERM: whether it got there, and what serve printed.
struct ServedUntil {
  bool reached = false;
  Run run;
};
inline ServedUntil ServeUntil(const std::string& id, const std::string& state, const std::string& config) {
  Served serve = Serve(config);
  ServedUntil out;
  out.reached = WaitForJob(id, state, config);
  out.run = serve.Stop();
  return out;
}

// Every member out of traffic on some instance has a record.
inline void CheckNothingOutWithoutRecord(const std::string& config) {
  Run list = Caretaker("maint list --json", config);
  REQUIRE(list.exit_code == 0);
  for (const auto& r : RollSandbox().replicas()) {
    if (AdminStates(r.name) == "0 0") continue;
    INFO(r.name << " is out of traffic (" << AdminStates(r.name) << "); records: " << list.out);
    CHECK(list.out.find("\"server\":\"" + r.name + "\"") != std::string::npos);
  }
}

}  // namespace caretaker
