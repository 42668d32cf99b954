// Versus Ansible: the same rolling restart of the same sandbox pool (3 GTID
// replicas behind 2 HAProxy instances), done once by an Ansible playbook
// (tests/bench/ansible/rolling-restart.yml, Debian's `ansible`) and once by
// `caretaker roll --pool replicas --task restart` with max_out 1, one after
// the other on one running sandbox. Figures: both wall times (command start
// to exit, interpreter and process start-up included) and their ratio.
//
// What each does for every replica, one at a time:
//   both      DRAIN on both instances, wait for its sessions to end, MAINT,
//             stop and start mariadbd (the sandbox's control script), wait
//             until both replication threads run and it has caught up, READY
//             on both instances, confirmed UP on each.
//   caretaker also checks the pool's capacity against its live state before
//             each drain, restores a member whose drain times out, requires 3
//             consecutive caught-up reads (lag <= 2 s, 200 ms apart) where the
//             playbook takes one read of Seconds_Behind_Master 0, waits for the
//             buffer pool warm-up, and records each step in its state store.
//   ansible   pays a Python module run per task and per HAProxy instance
//             (8 per replica), and reads sessions once a second at best
//             (caretaker here: every 50 ms).
// The playbook is given every advantage a careful operator would take: no
// fact gathering, pipelining, the replication wait as one shell loop polling
// every 0.2 s (caretaker's probe interval here), the restart as one task.
// With no client sessions, neither waits on a drain, so the figures are the
// tools' own cost plus the restarts. Whoever goes first restarts mariadbd
// from a colder cache; `--caretaker-first` swaps the order. Ansible is
// CPU-bound Python: on a loaded machine its time grows more than caretaker's.
// CARETAKER_BENCH_VERBOSE=1 prints both tools' output.
//
// Both runs must succeed: exit 0, then at once every server UP (READY, no
// drain or maint) on both instances and replication running on every replica;
// otherwise the bench exits 1 saying what failed. Ansible runs hermetically:
// its config, home, temp dirs and output stay in <sandbox dir>/ansible.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/bench/bench.h"
#include "tests/sandbox/files.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker::bench {
namespace {

constexpr auto kAllUpTimeout = std::chrono::seconds(60);
const std::string kPlaybookDir = std::string(CARETAKER_SOURCE_DIR) + "/tests/bench/ansible";

bool Verbose() { return std::getenv("CARETAKER_BENCH_VERBOSE") != nullptr; }

// Whether `program` is an executable file in a directory of $PATH.
bool OnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && ::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// A YAML single-quoted scalar.
std::string YamlQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string Tail(const std::string& text, size_t max_chars) {
  return text.size() > max_chars ? "..." + text.substr(text.size() - max_chars) : text;
}

// Runs argv with `env` added to the environment, stdout and stderr into
// `log`, and waits for it (blocking, as RunCaretaker does, so both wall times
// are measured the same way).
Timed RunLogged(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                const std::string& log) {
  return RunTimed(argv, env, log, log);
}

// Ansible's files and runs for one sandbox, all under <sandbox dir>/ansible.
class Ansible {
 public:
  explicit Ansible(const sandbox::Sandbox& sb) : dir_(sb.dir() + "/ansible") {
    for (const char* sub : {"home", "tmp", "remote-tmp"}) std::filesystem::create_directories(dir_ + "/" + sub);
    // ANSIBLE_CONFIG names this file, so no ansible.cfg of the machine (cwd,
    // ~/.ansible.cfg, /etc/ansible) is read; the settings are the env below.
    sandbox::WriteFile(dir_ + "/ansible.cfg", "# Empty: bench_ansible sets ANSIBLE_* in the environment.\n");
    WriteInventory(sb);
    env_ = {
        "ANSIBLE_CONFIG=" + dir_ + "/ansible.cfg",
        "ANSIBLE_HOME=" + dir_ + "/home",  // not ~/.ansible (nor its collections)
        "ANSIBLE_LOCAL_TEMP=" + dir_ + "/tmp",
        "ANSIBLE_REMOTE_TEMP=" + dir_ + "/remote-tmp",
        "ANSIBLE_HOST_KEY_CHECKING=False",
        "ANSIBLE_RETRY_FILES_ENABLED=False",
        "ANSIBLE_NOCOWS=1",
        "ANSIBLE_NOCOLOR=1",
        "ANSIBLE_PIPELINING=True",
        "ANSIBLE_STDOUT_CALLBACK=default",
        "ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks",  // each task's time
    };
  }

  // "Ansible 7.7.0 (ansible-core 2.14.18, community.general 6.6.2)"; throws
  // if a command fails.
  std::string Version() const {
    std::string community = Output({"ansible-community", "--version"});  // Ansible community version 7.7.0
    std::string core = Output({"ansible-playbook", "--version"});        // ansible-playbook [core 2.14.18]
    std::string general = Output({"ansible-galaxy", "collection", "list", "community.general"});
    std::string line = community.substr(0, community.find('\n'));
    std::string version = "Ansible " + line.substr(line.rfind(' ') + 1);
    size_t at = core.find("[core ");
    version += " (ansible-core " + (at == std::string::npos ? "?" : core.substr(at + 6, core.find(']', at) - at - 6));
    at = general.find("\ncommunity.general ");  // the table's row, under its header
    std::istringstream row(at == std::string::npos ? "" : general.substr(at + 1));
    std::string name, general_version = "?";
    row >> name >> general_version;
    return version + ", community.general " + general_version + ")";
  }

  Timed RollingRestart() const {
    return RunLogged({"ansible-playbook", "-i", dir_ + "/inventory.yml", kPlaybookDir + "/rolling-restart.yml"},
                     env_, dir_ + "/playbook-" + std::to_string(++runs_) + ".log");
  }

 private:
  void WriteInventory(const sandbox::Sandbox& sb) const {
    std::string sockets;
    for (const auto& h : sb.haproxies()) sockets += (sockets.empty() ? "" : ", ") + YamlQuote(h.admin_socket);
    std::string hosts;
    for (const auto& r : sb.replicas()) {
      hosts += "        " + r.name + ":\n" +
               "          haproxy_server: " + YamlQuote(r.name) + "\n" +
               "          control: " + YamlQuote(r.control) + "\n" +
               "          mysql_socket: " + YamlQuote(r.socket) + "\n" +
               "          mysql_port: " + std::to_string(r.port) + "\n";
    }
    sandbox::TemplateVars vars = {{"haproxy_sockets", "[" + sockets + "]"}, {"hosts", hosts}};
    std::string path = kPlaybookDir + "/inventory.yml.in";
    sandbox::WriteFile(dir_ + "/inventory.yml", sandbox::RenderTemplate(sandbox::ReadFile(path), vars, path));
  }

  std::string Output(const std::vector<std::string>& argv) const {
    Timed run = RunLogged(argv, env_, dir_ + "/" + argv[0] + ".log");
    if (run.exit_code != 0) throw std::runtime_error(sandbox::JoinArgv(argv) + " failed:\n" + Tail(run.out, 2000));
    return run.out;
  }

  std::string dir_;
  std::vector<std::string> env_;
  mutable int runs_ = 0;
};

// The sandbox's caretaker config with the walk's limit said explicitly (the
// default policy is max_out 1 already).
std::string CaretakerConfig(const sandbox::Sandbox& sb) {
  std::string toml = sandbox::ReadFile(sb.config_path());
  const std::string anchor = "[defaults.drain]";
  size_t at = toml.find(anchor);
  if (at == std::string::npos) throw std::runtime_error(sb.config_path() + ": no " + anchor + " table");
  toml.insert(at, "[defaults]\nmax_out = 1\n\n");
  std::string path = sb.dir() + "/bench-ansible.toml";
  sandbox::WriteFile(path, toml);
  return path;
}

// Fields of `show stat` rows of backend `replicas`, looked up by header name:
// server name -> status.
std::vector<std::pair<std::string, std::string>> ServerStatuses(const std::string& stat) {
  std::istringstream in(stat);
  std::vector<std::pair<std::string, std::string>> out;
  size_t pxname = 0, svname = 0, status = 0;
  bool header = false;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::istringstream row(line.rfind("# ", 0) == 0 ? line.substr(2) : line);
    for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
    if (line.rfind("# ", 0) == 0) {
      for (size_t i = 0; i < fields.size(); ++i) {
        if (fields[i] == "pxname") pxname = i;
        if (fields[i] == "svname") svname = i;
        if (fields[i] == "status") status = i;
      }
      header = status > 0;
      continue;
    }
    if (!header || fields.size() <= status || fields[pxname] != "replicas") continue;
    if (fields[svname] == "FRONTEND" || fields[svname] == "BACKEND") continue;
    out.emplace_back(fields[svname], fields[status]);
  }
  if (!header) throw std::runtime_error("unexpected reply to `show stat`: " + Tail(stat, 300));
  return out;
}

// Throws unless, right now, every replica is UP (not DRAIN, not MAINT) on
// every HAProxy instance and both of its replication threads run.
void RequireAllBack(sandbox::Sandbox& sb, const std::string& who) {
  sb.Resync();  // adopt the mariadbd processes the control scripts started
  std::string problems;
  for (size_t i = 0; i < sb.haproxies().size(); ++i) {
    const std::string& lb = sb.haproxies()[i].name;
    auto statuses = ServerStatuses(sb.HaproxyCommand(i, "show stat"));
    if (statuses.size() != sb.replicas().size()) {
      problems += "\n  " + lb + ": " + std::to_string(statuses.size()) + " servers in backend replicas";
    }
    for (const auto& [server, status] : statuses) {
      // "UP 1/2": up and READY, no check passed yet since it left MAINT.
      if (status != "UP" && status.rfind("UP ", 0) != 0) problems += "\n  " + lb + ": " + server + " is " + status;
    }
  }
  for (const auto& r : sb.replicas()) {
    std::string running = sb.Sql(r, "SHOW GLOBAL STATUS LIKE 'Slave_running'");
    if (running.find("\tON") == std::string::npos) problems += "\n  " + r.name + ": replication not running";
  }
  if (!problems.empty()) throw std::runtime_error("after " + who + " exited 0, not every replica is back:" + problems);
}

double TimeAnsible(sandbox::Sandbox& sb, const Ansible& ansible) {
  std::printf("  ansible-playbook rolling-restart.yml ...\n");
  std::fflush(stdout);
  Timed run = ansible.RollingRestart();
  if (Verbose()) std::printf("%s", run.out.c_str());
  if (run.exit_code != 0) {
    throw std::runtime_error("ansible-playbook exited " + std::to_string(run.exit_code) + " (log in " + sb.dir() +
                             "/ansible):\n" + Tail(run.out, 4000));
  }
  RequireAllBack(sb, "ansible-playbook");
  // profile_tasks' summary: where the playbook's time went, task by task.
  size_t rule = run.out.rfind("=====");
  if (!Verbose() && rule != std::string::npos) {
    std::istringstream summary(run.out.substr(run.out.find('\n', rule) + 1));
    for (std::string line; std::getline(summary, line);) std::printf("    %s\n", line.c_str());
  }
  return run.seconds;
}

double TimeCaretaker(sandbox::Sandbox& sb, const std::string& config) {
  std::printf("  caretaker roll --pool replicas --task restart ...\n");
  std::fflush(stdout);
  std::vector<std::string> args = {"-c", config, "roll", "--pool", "replicas", "--task", "restart", "--yes"};
  Timed run = RunCaretaker(args, sb.dir());
  if (Verbose()) std::printf("%s%s", run.out.c_str(), run.err.c_str());
  Require(run, "caretaker roll");
  RequireAllBack(sb, "caretaker roll");
  return run.seconds;
}

int Main(int argc, char** argv) {
  bool caretaker_first = argc == 2 && std::string(argv[1]) == "--caretaker-first";
  if (argc > 2 || (argc == 2 && !caretaker_first)) {
    std::fprintf(stderr, "usage: bench_ansible [--caretaker-first]\n");
    return 2;
  }
  if (!OnPath("ansible-playbook") || !OnPath("ansible-community")) {
    std::fprintf(stderr, "bench_ansible: Ansible is not installed: `apt-get install ansible` installs it with "
                         "community.general (`make bench` does).\n");
    return 1;
  }
  sandbox::Options options;
  options.keep_dir = std::getenv("CARETAKER_SANDBOX_KEEP") != nullptr;
  auto sb = sandbox::Sandbox::Start(options);
  Ansible ansible(*sb);
  std::printf("versus Ansible: a rolling restart of %zu replicas behind %zu HAProxy instances, one at a time;\n"
              "  %s\n",
              sb->replicas().size(), sb->haproxies().size(), ansible.Version().c_str());
  std::fflush(stdout);
  const std::string config = CaretakerConfig(*sb);

  double ansible_s = 0, caretaker_s = 0;
  if (caretaker_first) {
    caretaker_s = TimeCaretaker(*sb, config);
    sb->WaitAllUp(kAllUpTimeout);
    ansible_s = TimeAnsible(*sb, ansible);
  } else {
    ansible_s = TimeAnsible(*sb, ansible);
    sb->WaitAllUp(kAllUpTimeout);
    caretaker_s = TimeCaretaker(*sb, config);
  }
  sb->WaitAllUp(kAllUpTimeout);

  double ratio = ansible_s / caretaker_s;
  // The conditions, in the table: the ratio is mostly the tools' own cost,
  // since these restarts take about a second; real ones take minutes.
  const std::string on = " (3 replicas, 2 HAProxy, no load, local)";
  Report({"ansible", std::string("Ansible playbook, serial 1") + (caretaker_first ? "" : ", run first") + ": wall time" + on,
          Fixed(ansible_s, 2) + " s", "", {}});
  Report({"ansible", "caretaker roll, max_out 1: wall time" + on, Fixed(caretaker_s, 2) + " s", "", {}});
  Report({"ansible", "ratio Ansible / caretaker", Fixed(ratio, 2), "> 1 (caretaker faster)", ratio > 1.0});
  return 0;
}

}  // namespace
}  // namespace caretaker::bench

int main(int argc, char** argv) {
  try {
    return caretaker::bench::Main(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_ansible: %s\n", e.what());
    return 1;
  }
}
