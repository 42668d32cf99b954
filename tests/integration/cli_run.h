// Running the caretaker binary as a user would, against a sandbox: capture
// its output and exit code, write config variants, read HAProxy's state.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tests/sandbox/sandbox.h"

namespace caretaker {

struct Run {
  int exit_code = -1;
  int signal = 0;  // the signal that killed it (Finish only)
  std::string out;
  std::string err;
};

// `text` with every run of spaces folded to one: table rows compared by
// content, whatever the column widths.
inline std::string FoldSpaces(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
  }
  return out;
}

// The TOML the sandbox wrote, for tests that write a variant of it.
inline std::string ConfigText(const sandbox::Sandbox& sb) {
  std::ifstream in(sb.config_path());
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with its first `from` replaced by `to`; fails the test if absent.
inline std::string Replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

// Writes `text` as <sandbox dir>/<name> and returns its path.
inline std::string WriteFileIn(const sandbox::Sandbox& sb, const std::string& name, const std::string& text) {
  std::string path = sb.dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace caretaker

namespace caretaker {

// A sandbox of its own with `replicas` replicas (for tests that disturb it
// too much to share), started on first use.
inline std::unique_ptr<sandbox::Sandbox> StartOwnSandbox(int replicas) {
  sandbox::Options options;
  options.replicas = replicas;
  return sandbox::Sandbox::Start(options);
}

// A caretaker process running in the background (for signals, or to act on
// the sandbox while it waits). Output goes to files read by Finish().
struct Spawned {
  pid_t pid = -1;
  std::string out_path;
  std::string err_path;
};

inline Spawned SpawnCaretaker(const sandbox::Sandbox& sb, const std::string& args, std::string config = "",
                              const std::string& failpoint = "") {
  if (config.empty()) config = sb.config_path();
  static std::atomic<int> spawns{0};  // a test may run caretaker from two threads
  const int n = ++spawns;
  Spawned s;
  s.out_path = sb.dir() + "/bg-out-" + std::to_string(n) + ".txt";
  s.err_path = sb.dir() + "/bg-err-" + std::to_string(n) + ".txt";
  std::string cmd = "exec " + std::string(CARETAKER_BIN) + " -c " + config + " " + args + " >" + s.out_path +
                    " 2>" + s.err_path + " </dev/null";
  s.pid = fork();
  REQUIRE(s.pid >= 0);
  if (s.pid == 0) {
    // Nothing of the test's but 0-2: a client socket inherited here would stay
    // open in caretaker after the test closed it, a session on HAProxy that
    // no client holds (and that a drain then waits for).
    ::closefrom(3);
    if (!failpoint.empty()) setenv("CARETAKER_FAILPOINT", failpoint.c_str(), 1);
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return s;
}

// What a spawned process that ended with `status` (from waitpid) printed.
inline Run Collect(const Spawned& s, int status) {
  Run run;
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  std::ifstream out(s.out_path), err(s.err_path);
  std::stringstream o, e;
  o << out.rdbuf();
  e << err.rdbuf();
  run.out = o.str();
  run.err = e.str();
  return run;
}

inline Run Finish(const Spawned& s) {
  int status = 0;
  if (waitpid(s.pid, &status, 0) != s.pid) status = 0x7f00;  // not ours: exit code 127
  return Collect(s, status);
}

// Runs `caretaker -c CONFIG ARGS` (the sandbox's config when `config` is
// empty), stdin from /dev/null, to its end; captures stdout and stderr.
inline Run RunCaretaker(const sandbox::Sandbox& sb, const std::string& args, std::string config = "") {
  return Finish(SpawnCaretaker(sb, args, std::move(config)));
}

}  // namespace caretaker
