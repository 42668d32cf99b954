// The sandbox of the walk tests (roll_test.cc, halt_test.cc): four replicas
// of its own, shared by those tests, and what they use to look at it.
#pragma once

#include <chrono>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/cli_run.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker {

// Its own sandbox: walks restart servers, which the other tests must not see.
inline sandbox::Sandbox& RollSandbox() {
  static std::unique_ptr<sandbox::Sandbox> sb = StartOwnSandbox(4);
  return *sb;
}

inline Run Caretaker(const std::string& args, const std::string& config = "") {
  return RunCaretaker(RollSandbox(), args, config);
}

// The pid in a replica's pid file: it changes when mariadbd restarts.
inline std::string MysqldPid(size_t i) {
  std::ifstream in(RollSandbox().dir() + "/" + RollSandbox().replicas()[i].name + "/mysqld.pid");
  std::string pid;
  in >> pid;
  return pid;
}

// srv_admin_state of `server` on each instance ("0" READY, "1" MAINT, "8" DRAIN).
inline std::string AdminStates(const std::string& server) {
  std::string out;
  for (size_t i = 0; i < RollSandbox().haproxies().size(); ++i) {
    std::istringstream reply(RollSandbox().HaproxyCommand(i, "show servers state replicas"));
    for (std::string line; std::getline(reply, line);) {
      std::istringstream fields(line);
      std::vector<std::string> f;
      for (std::string w; fields >> w;) f.push_back(w);
      if (f.size() > 6 && f[3] == server) out += (out.empty() ? "" : " ") + f[6];
    }
  }
  return out;
}

// The sandbox's config plus `extra` TOML at the end.
inline std::string ConfigWith(const std::string& name, const std::string& extra) {
  return WriteFileIn(RollSandbox(), name, ConfigText(RollSandbox()) + "\n" + extra);
}

// A task of one step that prints and takes a second: time to act while it runs.
inline const std::string kSlowTask =
    "[[tasks]]\nname = \"slow\"\n  [[tasks.steps]]\n  name = \"work\"\n"
    "  command = \"echo working on {server}; sleep 1\"\n";

// Waits until the file at `path` contains `what` (a background command's output).
inline bool WaitForText(const std::string& path, const std::string& what,
                        std::chrono::seconds timeout = std::chrono::seconds(10)) {
  for (int i = 0; i < timeout.count() * 40; ++i) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    if (text.str().find(what) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

// The job id a roll announced on stderr ("caretaker: job 12: pool ...").
inline std::string JobIdOf(const std::string& err) {
  std::smatch m;
  if (std::regex_search(err, m, std::regex("caretaker: job ([0-9]+)"))) return m[1];
  return "";
}

inline size_t Find(const std::string& text, const std::string& what) {
  size_t at = text.find(what);
  INFO(what);
  REQUIRE(at != std::string::npos);
  return at;
}

}  // namespace caretaker
