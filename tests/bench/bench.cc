#include "tests/bench/bench.h"

#include <sys/resource.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "tests/sandbox/files.h"
#include "tests/sandbox/process.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker::bench {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

void Report(const Figure& f) {
  std::string verdict = !f.met ? "" : *f.met ? "  [met]" : "  [MISSED]";
  std::printf("  %-58s %14s  %s%s\n", f.what.c_str(), f.value.c_str(),
              f.target.empty() ? "" : ("target " + f.target).c_str(), verdict.c_str());
  std::fflush(stdout);
  const char* table = std::getenv("CARETAKER_BENCH_TABLE");
  if (!table || !*table) return;
  std::ofstream out(table, std::ios::app);
  out << f.bench << '\t' << f.what << '\t' << f.value << '\t' << f.target << '\t'
      << (!f.met ? "" : *f.met ? "met" : "MISSED") << '\n';
}

const char* CaretakerBin() { return CARETAKER_BIN; }

int Guarded(const char* name, int (*body)()) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each line as it is printed, piped or not
  try {
    return body();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}

Timed RunTimed(const std::vector<std::string>& argv, const std::vector<std::string>& env,
               const std::string& out_path, const std::string& err_path) {
  sandbox::SpawnOptions spawn;
  spawn.argv = argv;
  spawn.extra_env = env;
  sandbox::ScopedFd out(sandbox::OpenLog(out_path));
  sandbox::ScopedFd err(err_path == out_path ? -1 : sandbox::OpenLog(err_path));
  spawn.stdout_fd = out.get();
  spawn.stderr_fd = err_path == out_path ? out.get() : err.get();
  spawn.new_session = false;  // Ctrl-C on the bench reaches it too
  Timed t;
  auto start = Clock::now();
  pid_t pid = sandbox::Spawn(spawn);
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) throw std::runtime_error("wait4 on " + argv[0] + ": " + std::strerror(errno));
  }
  t.seconds = Seconds(Clock::now() - start);
  t.exit_code = sandbox::ShellExitCode(status);
  t.peak_rss_kib = usage.ru_maxrss;
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  t.cpu_seconds = secs(usage.ru_utime) + secs(usage.ru_stime);
  t.out = sandbox::ReadFile(out_path);
  if (err_path != out_path) t.err = sandbox::ReadFile(err_path);
  return t;
}

Timed RunCaretaker(const std::vector<std::string>& args, const std::string& log_dir) {
  static int runs = 0;
  std::string base = log_dir + "/caretaker-" + std::to_string(++runs);
  std::vector<std::string> argv;
  if (const char* prefix = std::getenv("CARETAKER_BENCH_PREFIX")) {
    std::istringstream words(prefix);
    for (std::string w; words >> w;) argv.push_back(w);
  }
  argv.push_back(CaretakerBin());
  argv.insert(argv.end(), args.begin(), args.end());
  return RunTimed(argv, {}, base + ".out", base + ".err");
}

void Require(const Timed& run, const std::string& what) {
  if (run.exit_code == 0) return;
  std::string tail = run.err.size() > 2000 ? run.err.substr(run.err.size() - 2000) : run.err;
  throw std::runtime_error(what + ": caretaker exited " + std::to_string(run.exit_code) + ":\n" + tail);
}

int AdminState(const sandbox::Sandbox& sb, size_t i, const std::string& server) {
  std::istringstream reply(sb.HaproxyCommand(i, "show servers state replicas"));
  for (std::string line; std::getline(reply, line);) {
    std::istringstream in(line);
    std::vector<std::string> f;
    for (std::string w; in >> w;) f.push_back(w);
    if (f.size() > 6 && f[3] == server) return std::stoi(f[6]);
  }
  throw std::runtime_error("no server " + server + " on lb" + std::to_string(i + 1));
}

}  // namespace caretaker::bench
