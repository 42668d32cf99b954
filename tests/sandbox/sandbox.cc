// Sandbox lifecycle: layout of the temp dir, start-up order, the caretaker
// config, control operations, teardown, and the shared instance of tests.
#include "tests/sandbox/sandbox.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include "tests/sandbox/files.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/sandbox_impl.h"

namespace caretaker::sandbox {
namespace {

namespace fs = std::filesystem;

constexpr auto kStartTimeout = std::chrono::seconds(60);
constexpr auto kStopGrace = std::chrono::seconds(30);
constexpr auto kHaproxyCommandTimeout = std::chrono::seconds(5);

std::string Seconds(std::chrono::milliseconds ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(ms.count()) / 1000.0);
  return buf;
}

std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void RequireSocketPath(const std::string& path) {
  if (path.size() > MaxUnixSocketPath()) {
    throw std::runtime_error("sandbox: unix socket path " + path + " is longer than " +
                             std::to_string(MaxUnixSocketPath()) +
                             " bytes; use a shorter parent dir (Options::parent_dir or TMPDIR)");
  }
}

MysqlNode MakeMysqlNode(const std::string& dir, std::string name, int server_id,
                        uint16_t port) {
  MysqlNode node;
  std::string home = dir + "/" + name;
  node.name = std::move(name);
  node.server_id = server_id;
  node.port = port;
  node.socket = home + "/mysqld.sock";
  node.datadir = home + "/data";
  node.error_log = home + "/error.log";
  fs::create_directories(home + "/tmp");
  RequireSocketPath(node.socket);
  return node;
}

HaproxyNode MakeHaproxyNode(const std::string& dir, int index, uint16_t admin_tcp_port,
                            uint16_t frontend_port) {
  HaproxyNode node;
  node.name = "lb" + std::to_string(index);
  std::string home = dir + "/" + node.name;
  node.admin_socket = home + "/admin.sock";
  if (index == 1) node.operator_socket = home + "/operator.sock";
  node.admin_tcp_port = admin_tcp_port;
  node.frontend_port = frontend_port;
  node.config_path = home + "/haproxy.cfg";
  node.state_file = home + "/server-state";
  node.log_path = home + "/haproxy.log";
  fs::create_directories(home);
  RequireSocketPath(node.admin_socket);
  RequireSocketPath(node.operator_socket);
  return node;
}

bool EnvFlag(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr && std::string_view(value) == "1";
}

}  // namespace

void Progress::Step(std::string_view what) const {
  if (enabled_) std::fprintf(stderr, "[sandbox %7s] %.*s\n", Seconds(Elapsed()).c_str(),
                             static_cast<int>(what.size()), what.data());
}

std::chrono::milliseconds Progress::Elapsed() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_);
}

void Sandbox::Impl::Boot(const Options& start_options) {
  options = start_options;
  if (options.replicas < 1 || options.haproxies < 1) {
    throw std::invalid_argument("sandbox: needs at least 1 replica and 1 haproxy");
  }
  owner_pid = ::getpid();
  progress = Progress(options.verbose);
  dir = MakeTempDir(options.parent_dir);
  watchdog = std::make_unique<Watchdog>(dir, options.keep_dir);
  progress.Step("dir " + dir + " (watchdog pid " + std::to_string(watchdog->pid()) + ")");
  LayOut();
  password = RandomToken(24);
  WriteFile(password_file, password + "\n", 0600);
  WriteCaretakerConfig();

  InstallDataDirs();
  for (auto& replica : replicas) WriteControlScript(replica);
  progress.Step("data dir made and copied for " + std::to_string(replicas.size()) + " replicas");
  SpawnMysqld(primary);
  for (auto& replica : replicas) SpawnMysqld(replica);
  auto deadline = Clock::now() + kStartTimeout;
  std::string ready = "mariadbd ready:";
  WaitMysqlReady(primary, deadline);
  ready += " primary :" + std::to_string(primary.port);
  for (auto& replica : replicas) {
    WaitMysqlReady(replica, deadline);
    ready += ", " + replica.name + " :" + std::to_string(replica.port);
  }
  progress.Step(ready);
  SetUpReplication();

  for (auto& haproxy : haproxies) SpawnHaproxy(haproxy);
  progress.Step("haproxy started: " + std::to_string(haproxies.size()) + " instances");
  WaitAllUp(kStartTimeout);
  progress.Step("ready: db1..db" + std::to_string(replicas.size()) +
                " UP and READY on every haproxy");
}

void Sandbox::Impl::LayOut() {
  size_t n = static_cast<size_t>(options.replicas);
  size_t m = static_cast<size_t>(options.haproxies);
  std::vector<uint16_t> ports = FreeLoopbackPorts(1 + n + 2 * m);
  size_t next = 0;
  primary = MakeMysqlNode(dir, "primary", 1, ports[next++]);
  for (size_t i = 1; i <= n; ++i) {
    replicas.push_back(MakeMysqlNode(dir, "db" + std::to_string(i), static_cast<int>(i) + 1,
                                     ports[next++]));
  }
  for (size_t i = 1; i <= m; ++i) {
    uint16_t admin_tcp_port = ports[next++];
    haproxies.push_back(MakeHaproxyNode(dir, static_cast<int>(i), admin_tcp_port, ports[next++]));
  }
  paused.assign(m, false);
  config_path = dir + "/caretaker.toml";
  password_file = dir + "/mysql.pass";
}

void Sandbox::Impl::WriteCaretakerConfig() const {
  std::string toml = "# Written by the caretaker sandbox for its own processes.\n";
  toml += "[state]\ndir = " + TomlString(dir + "/state") + "\nhalt_file = " + TomlString(dir + "/HALT") + "\n\n";
  // Quick gates and a short drain deadline: sandbox servers are small and idle.
  toml += "[defaults.drain]\ndeadline = \"10s\"\npoll_interval = \"50ms\"\n\n";
  toml += "[defaults.gates]\nprobe_interval = \"200ms\"\nmysql_timeout = \"60s\"\nmax_lag = \"2s\"\n"
          "catch_up_reads = 3\ncatch_up_timeout = \"60s\"\nwarmup_timeout = \"60s\"\n"
          "enable_timeout = \"10s\"\n\n";
  toml += "[mysql]\nuser = \"caretaker\"\npassword_file = " + TomlString(password_file) + "\n";
  std::string pool_instances;
  for (const auto& h : haproxies) {
    std::string socket = h.name == "lb1" ? "unix:" + h.admin_socket
                                         : "tcp:127.0.0.1:" + std::to_string(h.admin_tcp_port);
    toml += "\n[[haproxy]]\nname = " + TomlString(h.name) + "\nsocket = " + TomlString(socket) +
            "\n";
    pool_instances += (pool_instances.empty() ? "" : ", ") + TomlString(h.name);
  }
  toml += "\n[[pools]]\nname = \"replicas\"\nbackend = \"replicas\"\nhaproxy = [" +
          pool_instances + "]\n";
  toml += "primary = { host = \"127.0.0.1\", port = " + std::to_string(primary.port) + " }\n";
  for (const auto& r : replicas) {
    toml += "\n[[pools.members]]\nserver = " + TomlString(r.name) +
            "\nhost = \"127.0.0.1\"\nport = " + std::to_string(r.port) + "\n";
  }
  // A real restart of each replica's mariadbd, through its control script.
  const std::string control = TomlString(dir + "/{server}/control");
  toml += "\n[[tasks]]\nname = \"restart\"\ndescription = \"stop and start mariadbd (the sandbox's control "
          "script)\"\n"
          "  [[tasks.steps]]\n  name = \"stop mariadbd\"\n  command = [" + control + ", \"stop\"]\n  safe_to_repeat = true\n"
          "  timeout = \"60s\"\n"
          "  [[tasks.steps]]\n  name = \"start mariadbd\"\n  command = [" + control + ", \"start\"]\n  safe_to_repeat = true\n"
          "  timeout = \"90s\"\n";
  WriteFile(config_path, toml);
}

void Sandbox::Impl::Teardown() noexcept {
  try {
    auto started = Clock::now();
    std::vector<pid_t> pids;
    for (auto& h : haproxies) pids.push_back(std::exchange(h.pid, 0));
    for (pid_t old : retired) pids.push_back(old);
    retired.clear();
    pids.push_back(std::exchange(primary.pid, 0));
    for (auto& r : replicas) {
      if (watchdog) Resync(r);
      if (!r.adopted) pids.push_back(std::exchange(r.pid, 0));
    }
    StopProcesses(pids, kStopGrace);
    for (auto& r : replicas) {
      if (r.adopted) StopForeign(std::exchange(r.pid, 0), kStopGrace);
    }
    if (!dir.empty() && !options.keep_dir) fs::remove_all(dir);
    if (watchdog) watchdog->Disarm();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    if (options.verbose) {
      std::fprintf(stderr, "[sandbox] stopped in %s; %s %s\n", Seconds(took).c_str(),
                   options.keep_dir ? "kept" : "removed", dir.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sandbox teardown of %s: %s (the watchdog finishes it)\n", dir.c_str(),
                 e.what());
  }
}

Sandbox::Sandbox() : impl_(std::make_unique<Impl>()) {}

Sandbox::~Sandbox() {
  if (impl_->owner_pid != 0 && impl_->owner_pid != ::getpid()) {
    (void)impl_.release();  // a forked copy: the processes and the watchdog are not ours
    return;
  }
  impl_->Teardown();
}

std::unique_ptr<Sandbox> Sandbox::Start(const Options& options) {
  std::unique_ptr<Sandbox> sandbox(new Sandbox());
  sandbox->impl_->Boot(options);  // on a throw, ~Sandbox stops what was started
  return sandbox;
}

const std::string& Sandbox::dir() const { return impl_->dir; }
const std::string& Sandbox::config_path() const { return impl_->config_path; }
const MysqlNode& Sandbox::primary() const { return impl_->primary; }
const std::vector<MysqlNode>& Sandbox::replicas() const { return impl_->replicas; }
const std::vector<HaproxyNode>& Sandbox::haproxies() const { return impl_->haproxies; }
const std::string& Sandbox::mysql_password() const { return impl_->password; }
const std::string& Sandbox::password_file() const { return impl_->password_file; }

std::string Sandbox::Sql(const MysqlNode& node, std::string_view sql) const {
  return RunSql(node, sql);
}

namespace {
template <typename T>
T& At(std::vector<T>& nodes, size_t i, const char* what) {
  if (i >= nodes.size()) {
    throw std::out_of_range(std::string("sandbox: no ") + what + " #" + std::to_string(i) +
                            " (there are " + std::to_string(nodes.size()) + ")");
  }
  return nodes[i];
}
}  // namespace

void Sandbox::StopReplica(size_t i) { impl_->StopMysqld(At(impl_->replicas, i, "replica")); }

void Sandbox::StartReplica(size_t i) {
  MysqlNode& node = At(impl_->replicas, i, "replica");
  impl_->Resync(node);
  if (node.pid == 0) impl_->SpawnMysqld(node);
  auto deadline = Clock::now() + kStartTimeout;
  impl_->WaitMysqlReady(node, deadline);
  impl_->WaitReplicaRunning(node, deadline);
}

void Sandbox::KillReplica(size_t i) {
  MysqlNode& node = At(impl_->replicas, i, "replica");
  impl_->Resync(node);
  if (node.pid == 0) return;
  pid_t pid = std::exchange(node.pid, 0);
  ::kill(pid, SIGKILL);
  if (std::exchange(node.adopted, false)) {
    StopForeign(pid, kStopGrace);  // waits until it is gone
  } else {
    StopProcesses({pid}, kStopGrace);  // reaps it
  }
  impl_->watchdog->Untrack(pid);
}

void Sandbox::ReloadHaproxy(size_t i) {
  HaproxyNode& node = At(impl_->haproxies, i, "haproxy");
  if (node.pid <= 0 || impl_->paused[i]) throw std::runtime_error("sandbox: haproxy " + node.name + " cannot reload now");
  impl_->ReloadHaproxy(node);
}

void Sandbox::Resync() {
  for (auto& replica : impl_->replicas) impl_->Resync(replica);
}

void Sandbox::PauseHaproxy(size_t i) {
  HaproxyNode& node = At(impl_->haproxies, i, "haproxy");
  if (node.pid <= 0 || impl_->paused[i]) return;
  // Returns once it is stopped, so the caller sees a frozen process.
  if (::kill(node.pid, SIGSTOP) == 0) WaitStopped(node.pid, kHaproxyCommandTimeout);
  impl_->paused[i] = true;
}

void Sandbox::ResumeHaproxy(size_t i) {
  HaproxyNode& node = At(impl_->haproxies, i, "haproxy");
  if (node.pid <= 0 || !impl_->paused[i]) return;
  if (::kill(node.pid, SIGCONT) == 0) WaitContinued(node.pid, kHaproxyCommandTimeout);
  impl_->paused[i] = false;
}

std::string Sandbox::HaproxyCommand(size_t i, std::string_view command) const {
  const HaproxyNode& node = At(impl_->haproxies, i, "haproxy");
  try {
    return QueryUnixSocket(node.admin_socket, command, kHaproxyCommandTimeout);
  } catch (const std::exception& e) {
    throw std::runtime_error("haproxy " + node.name + " `" + std::string(command) +
                             "`: " + e.what());
  }
}

void Sandbox::WaitAllUp(std::chrono::milliseconds timeout) const { impl_->WaitAllUp(timeout); }

Sandbox& Shared() {
  static const std::unique_ptr<Sandbox> shared = [] {
    Options options;
    options.verbose = EnvFlag("CARETAKER_SANDBOX_VERBOSE");
    options.keep_dir = EnvFlag("CARETAKER_SANDBOX_KEEP");
    return Sandbox::Start(options);
  }();
  return *shared;
}

}  // namespace caretaker::sandbox
