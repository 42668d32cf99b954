#include "tests/bench/fleet.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>
#include <thread>

#include "tests/sandbox/files.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/watchdog.h"

namespace caretaker::bench {
namespace {

constexpr auto kReplyTimeout = std::chrono::seconds(30);

std::string Name(char prefix, int n, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%c%0*d", prefix, width, n);
  return buf;
}

// Server j of backend b listens (or would) on its own loopback port.
int ServerPort(const FleetOptions& o, int b, int j) { return 20000 + b * o.servers_per_backend + j; }

}  // namespace

struct Fleet::Impl {
  FleetOptions options;
  std::string dir;
  std::vector<std::string> sockets;
  std::vector<pid_t> pids;
  std::unique_ptr<sandbox::Watchdog> watchdog;
  int backend_width = 3;
  int server_width = 2;

  std::string HaproxyConfig(size_t i) const {
    std::string cfg = "global\n    stats socket " + sockets[i] + " mode 600 level admin\n" +
                      "    stats timeout 1m\n    maxconn 4000\n\n"
                      "defaults\n    mode tcp\n    timeout connect 2s\n    timeout client 1m\n"
                      "    timeout server 1m\n\n";
    for (int b = 0; b < options.backends; ++b) {
      cfg += "backend " + Name('b', b + 1, backend_width) + "\n    balance leastconn\n";
      for (int j = 0; j < options.servers_per_backend; ++j) {
        cfg += "    server " + Name('s', j + 1, server_width) + " 127.0.0.1:" +
               std::to_string(ServerPort(options, b, j)) + "\n";
      }
    }
    return cfg;
  }

  void StartInstance(size_t i) {
    std::string cfg_path = dir + "/lb" + std::to_string(i + 1) + ".cfg";
    sandbox::WriteFile(cfg_path, HaproxyConfig(i));
    sandbox::SpawnOptions spawn;
    spawn.argv = {"haproxy", "-db", "-f", cfg_path};
    sandbox::ScopedFd log(sandbox::OpenLog(dir + "/lb" + std::to_string(i + 1) + ".log"));
    spawn.stdout_fd = log.get();
    spawn.stderr_fd = log.get();
    pids.push_back(sandbox::Spawn(spawn));
    watchdog->Track(pids.back(), "haproxy");
  }

  void WaitReady() const {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (size_t i = 0; i < sockets.size(); ++i) {
      while (!sandbox::UnixSocketAccepts(sockets[i])) {
        if (sandbox::PeekExit(pids[i]) || std::chrono::steady_clock::now() > deadline) {
          throw std::runtime_error("haproxy lb" + std::to_string(i + 1) + " did not start" +
                                   sandbox::SeeLog(dir + "/lb" + std::to_string(i + 1) + ".log"));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
};

Fleet::Fleet() : impl_(std::make_unique<Impl>()) {}

Fleet::~Fleet() {
  sandbox::StopProcesses(impl_->pids, std::chrono::seconds(5));
  if (impl_->watchdog) impl_->watchdog->Disarm();
  std::error_code ignored;
  sandbox::RunCommand({"rm", "-rf", impl_->dir}, std::chrono::seconds(30));
}

std::unique_ptr<Fleet> Fleet::Start(const FleetOptions& options) {
  std::unique_ptr<Fleet> fleet(new Fleet());
  Impl& f = *fleet->impl_;
  f.options = options;
  f.backend_width = options.backends >= 1000 ? 4 : 3;
  f.server_width = options.servers_per_backend >= 100 ? 3 : 2;
  f.dir = sandbox::MakeTempDir(options.parent_dir);
  f.watchdog = std::make_unique<sandbox::Watchdog>(f.dir, false);
  for (int i = 0; i < options.instances; ++i) {
    f.sockets.push_back(f.dir + "/lb" + std::to_string(i + 1) + ".sock");
  }
  for (size_t i = 0; i < f.sockets.size(); ++i) f.StartInstance(i);
  f.WaitReady();
  return fleet;
}

const std::string& Fleet::dir() const { return impl_->dir; }
const std::vector<std::string>& Fleet::admin_sockets() const { return impl_->sockets; }

std::vector<std::string> Fleet::backend_names() const {
  std::vector<std::string> names;
  for (int b = 0; b < impl_->options.backends; ++b) names.push_back(Name('b', b + 1, impl_->backend_width));
  return names;
}

std::string Fleet::WriteConfig(const std::string& name, const std::string& step_command,
                               const std::string& extra) const {
  const Impl& f = *impl_;
  std::string password_file = f.dir + "/mysql.pass";
  sandbox::WriteFile(password_file, "unused\n", 0600);
  std::string toml = "[state]\ndir = \"" + f.dir + "/state\"\n\n" + extra + "\n\n[mysql]\nuser = \"bench\"\n" +
                     "password_file = \"" + password_file + "\"\n";
  std::string instances;
  for (size_t i = 0; i < f.sockets.size(); ++i) {
    std::string lb = "lb" + std::to_string(i + 1);
    toml += "\n[[haproxy]]\nname = \"" + lb + "\"\nsocket = \"unix:" + f.sockets[i] + "\"\n";
    instances += (instances.empty() ? "\"" : ", \"") + lb + "\"";
  }
  for (int b = 0; b < f.options.backends; ++b) {
    std::string backend = Name('b', b + 1, f.backend_width);
    toml += "\n[[pools]]\nname = \"" + backend + "\"\nbackend = \"" + backend + "\"\nhaproxy = [" + instances + "]\n";
    for (int j = 0; j < f.options.servers_per_backend; ++j) {
      toml += "[[pools.members]]\nserver = \"" + Name('s', j + 1, f.server_width) +
              "\"\nhost = \"127.0.0.1\"\nport = " + std::to_string(ServerPort(f.options, b, j)) + "\n";
    }
  }
  toml += "\n[[tasks]]\nname = \"step\"\ngates_off = [\"mysqld\", \"replication\", \"catch-up\", \"warm-up\"]\n"
          "  [[tasks.steps]]\n  name = \"step\"\n  command = " + step_command + "\n";
  std::string path = f.dir + "/" + name;
  sandbox::WriteFile(path, toml);
  return path;
}

std::string Fleet::Command(size_t i, const std::string& line) const {
  return sandbox::QueryUnixSocket(impl_->sockets.at(i), line, kReplyTimeout);
}

}  // namespace caretaker::bench
