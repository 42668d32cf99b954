// The Graphite of the sandbox: carbon-cache and graphite-web, their config,
// processes and readiness (see graphite.h).
#include "tests/sandbox/graphite.h"

#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "tests/sandbox/files.h"
#include "tests/sandbox/net.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/watchdog.h"

namespace caretaker::sandbox {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr const char* kCarbon = "/usr/bin/carbon-cache";
constexpr const char* kManage = "/usr/bin/graphite-manage";
constexpr auto kReadyTimeout = std::chrono::seconds(40);
constexpr auto kMigrateTimeout = std::chrono::seconds(120);
constexpr auto kStopGrace = std::chrono::seconds(5);
constexpr auto kRenderTimeout = std::chrono::seconds(5);
constexpr const char* kSettingsModule = "caretaker_graphite_settings";

std::string CarbonConf(const std::string& dir, uint16_t line, uint16_t pickle, uint16_t query) {
  return "# Written by the caretaker test harness: loopback only.\n[cache]\n"
         "STORAGE_DIR = " + dir + "/storage/\nLOCAL_DATA_DIR = " + dir + "/whisper/\n"
         "WHITELISTS_DIR = " + dir + "/storage/lists/\nCONF_DIR = " + dir + "/conf/\nLOG_DIR = " + dir + "/log/\n"
         "PID_DIR = " + dir + "/\nUSER =\nMAX_CACHE_SIZE = inf\nMAX_UPDATES_PER_SECOND = 50000\n"
         "MAX_CREATES_PER_MINUTE = 50000\nLINE_RECEIVER_INTERFACE = 127.0.0.1\nLINE_RECEIVER_PORT = " +
         std::to_string(line) + "\nENABLE_UDP_LISTENER = False\nPICKLE_RECEIVER_INTERFACE = 127.0.0.1\n"
         "PICKLE_RECEIVER_PORT = " + std::to_string(pickle) + "\nCACHE_QUERY_INTERFACE = 127.0.0.1\n"
         "CACHE_QUERY_PORT = " + std::to_string(query) + "\nLOG_LISTENER_CONNECTIONS = False\n";
}

std::string WebSettings(const std::string& dir, uint16_t query) {
  return "# Written by the caretaker test harness (graphite-web's local_settings).\n"
         "SECRET_KEY = 'caretaker-test'\nALLOWED_HOSTS = ['127.0.0.1', 'localhost']\n"
         "GRAPHITE_ROOT = '" + dir + "'\nSTORAGE_DIR = '" + dir + "/storage'\nWHISPER_DIR = '" + dir + "/whisper'\n"
         "STANDARD_DIRS = [WHISPER_DIR]\nLOG_DIR = '" + dir + "/log'\nINDEX_FILE = '" + dir + "/storage/index'\n"
         "CARBONLINK_HOSTS = ['127.0.0.1:" + std::to_string(query) + "']\n"
         "DATABASES = {'default': {'NAME': '" + dir + "/storage/graphite.db', 'ENGINE': 'django.db.backends.sqlite3'}}\n";
}


}  // namespace

std::unique_ptr<Graphite> Graphite::Start() {
  std::unique_ptr<Graphite> g(new Graphite());
  g->Boot();
  return g;
}

Graphite::~Graphite() {
  if (owner_pid_ != 0 && owner_pid_ != ::getpid()) {
    (void)watchdog_.release();
    return;
  }
  Stop();
}

void Graphite::Boot() {
  for (const char* binary : {kCarbon, kManage}) {
    if (::access(binary, X_OK) != 0) {
      throw std::runtime_error(std::string("graphite: ") + binary +
                               " not found: install graphite-carbon and graphite-web (tools/install-deps)");
    }
  }
  owner_pid_ = ::getpid();
  dir_ = MakeTempDir("");
  watchdog_ = std::make_unique<Watchdog>(dir_, /*keep_dir=*/false);
  for (const char* sub : {"storage", "whisper", "log", "conf", "web"}) fs::create_directories(dir_ + "/" + sub);
  std::vector<uint16_t> ports = FreeLoopbackPorts(4);
  line_port_ = ports[0];
  web_port_ = ports[3];
  WriteFile(dir_ + "/conf/carbon.conf", CarbonConf(dir_, ports[0], ports[1], ports[2]));
  WriteFile(dir_ + "/conf/storage-schemas.conf", "[default]\npattern = .*\nretentions = 1s:1h\n");
  WriteFile(dir_ + "/web/" + std::string(kSettingsModule) + ".py", WebSettings(dir_, ports[2]));
  {
    ScopedFd log(OpenLog(dir_ + "/carbon.log"));
    SpawnOptions options;
    options.argv = {kCarbon, "--config=" + dir_ + "/conf/carbon.conf", "--pidfile=" + dir_ + "/carbon.pid",
                    "--nodaemon", "start"};
    options.stdout_fd = log.get();
    options.stderr_fd = log.get();
    carbon_ = Spawn(options);
    watchdog_->Track(carbon_, "carbon-cache");
  }
  // graphite-web's own database (users, tags): created once.
  CommandResult m = RunCommand({"env", "PYTHONPATH=" + dir_ + "/web", "GRAPHITE_SETTINGS_MODULE=" + std::string(kSettingsModule),
                                kManage, "migrate", "--noinput"},
                               kMigrateTimeout);
  if (!m.ok()) throw std::runtime_error("graphite: graphite-manage migrate: " + DescribeWaitStatus(m.status) + ": " + m.err);
  StartWeb();
}

void Graphite::StartWeb() {
  if (web_ != 0) return;
  ScopedFd log(OpenLog(dir_ + "/web.log"));
  SpawnOptions options;
  options.argv = {kManage, "runserver", "--noreload", "127.0.0.1:" + std::to_string(web_port_)};
  options.extra_env = {"PYTHONPATH=" + dir_ + "/web", "GRAPHITE_SETTINGS_MODULE=" + std::string(kSettingsModule)};
  options.stdout_fd = log.get();
  options.stderr_fd = log.get();
  web_ = Spawn(options);
  watchdog_->Track(web_, "graphite-web");
  // Ready: a point sent to carbon is rendered (both processes, and the
  // carbonlink between them, work).
  const auto deadline = Clock::now() + kReadyTimeout;
  while (Clock::now() < deadline) {
    for (pid_t pid : {carbon_, web_}) {
      if (std::optional<int> status = PeekExit(pid)) {
        throw std::runtime_error(std::string("graphite: ") + (pid == carbon_ ? "carbon-cache" : "graphite-web") +
                                 " exited (" + DescribeWaitStatus(*status) + ")" +
                                 SeeLog(dir_ + (pid == carbon_ ? "/carbon.log" : "/web.log")));
      }
    }
    try {
      Send("caretaker.harness.ready 1 " + std::to_string(std::time(nullptr)) + "\n");
      if (Render("caretaker.harness.ready").find("[1.0, ") != std::string::npos) return;
    } catch (const std::exception&) {
      // not listening yet
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  throw std::runtime_error("graphite: no datapoint rendered by 127.0.0.1:" + std::to_string(web_port_) + " within " +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(kReadyTimeout).count()) +
                           " s" + SeeLog(dir_ + "/web.log"));
}

void Graphite::StopWeb() {
  pid_t pid = std::exchange(web_, 0);
  if (pid == 0) return;
  StopProcesses({pid}, kStopGrace);
  watchdog_->Untrack(pid);
}

void Graphite::Send(const std::string& lines) const {
  std::string text = lines;
  if (!text.empty() && text.back() == '\n') text.pop_back();  // QueryLoopbackTcp adds it
  SendLoopbackTcp(line_port_, text, kRenderTimeout);
}

std::string Graphite::Render(const std::string& target) const {
  return HttpGetLoopback(web_port_, "/render?target=" + UrlEncode(target) + "&from=-60s&format=json", kRenderTimeout);
}

void Graphite::Stop() noexcept {
  try {
    StopProcesses({std::exchange(web_, 0), std::exchange(carbon_, 0)}, kStopGrace);
    if (!dir_.empty()) fs::remove_all(dir_);
    if (watchdog_) watchdog_->Disarm();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "graphite teardown of %s: %s (the watchdog finishes it)\n", dir_.c_str(), e.what());
  }
}

}  // namespace caretaker::sandbox
