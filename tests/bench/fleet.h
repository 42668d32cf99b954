// A fleet for the benchmarks: real HAProxy instances fronting many backends of
// many servers, without MySQL behind them. Servers have no health check, so
// HAProxy reports them UP ("no check") whether anything listens or not; the
// caretaker config it writes turns every gate off (the task's gates_off), so
// a walk measures caretaker and HAProxy, not MariaDB.
//
// Backends are b001..bNNN, servers s01..sNN in each, every instance fronts
// every backend. The destructor stops the instances and removes the temp
// dir; a watchdog does the same if the bench dies.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace caretaker::bench {

struct FleetOptions {
  int instances = 1;
  int backends = 1;
  int servers_per_backend = 60;
  std::string parent_dir;  // default $TMPDIR or /tmp
};

class Fleet {
 public:
  static std::unique_ptr<Fleet> Start(const FleetOptions& options);
  ~Fleet();
  Fleet(const Fleet&) = delete;
  Fleet& operator=(const Fleet&) = delete;

  const std::string& dir() const;
  const std::vector<std::string>& admin_sockets() const;
  std::vector<std::string> backend_names() const;

  // Writes <dir>/<name> : a caretaker config with every instance, one pool per
  // backend (same name), a task "step" whose one step runs `step_command` (a
  // TOML value: "a shell line" or ["argv", "form"]) with every gate off, and
  // `extra` TOML (e.g. [defaults] max_out).
  std::string WriteConfig(const std::string& name, const std::string& step_command,
                          const std::string& extra) const;

  // One command over instance i's admin socket; the whole reply.
  std::string Command(size_t i, const std::string& line) const;

 private:
  Fleet();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace caretaker::bench
