// A frozen HAProxy instance during a walk, on the real sandbox (issue 13):
// lb2 is SIGSTOPped the moment a change to db1 reaches it, so the command
// sits in a stopped HAProxy's socket, as during a reload or a stall of the
// host. Frozen for 3 s (replies time out after 1 s), the walk re-reads lb2
// until it answers and finishes with every member back; frozen past the
// deadline, db1 fails held out of traffic with its record, as before.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/roll_fixture.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

// A TCP relay in front of lb2's admin port that calls `freeze` (once) when a
// command containing `trigger` passes, just BEFORE forwarding it: the command
// then reaches a stopped HAProxy. Everything else is relayed verbatim.
class FreezingRelay {
 public:
  FreezingRelay(uint16_t upstream, std::string trigger, std::function<void()> freeze)
      : upstream_(upstream), trigger_(std::move(trigger)), freeze_(std::move(freeze)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 64) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~FreezingRelay() {
    stop_ = true;
    acceptor_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (std::thread& t : relays_) t.join();
    ::close(listen_fd_);
  }
  uint16_t port() const { return port_; }
  bool fired() const { return fired_; }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      relays_.emplace_back([this, client] { Relay(client); });
    }
  }

  // Polls `fd` for `events` until it is ready or the relay stops.
  bool Wait(int fd, short events) {
    while (!stop_) {
      pollfd p{fd, events, 0};
      int n = ::poll(&p, 1, 100);
      if (n > 0) return true;
      if (n < 0) return false;
    }
    return false;
  }

  // One connection: caretaker writes one command line, HAProxy answers and closes.
  void Relay(int client) {
    std::string line;
    char buf[65536];
    while (line.find('\n') == std::string::npos && Wait(client, POLLIN)) {
      ssize_t n = ::read(client, buf, sizeof buf);
      if (n <= 0) break;
      line.append(buf, static_cast<size_t>(n));
    }
    int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(upstream_);
    if (line.find(trigger_) != std::string::npos && !fired_.exchange(true)) freeze_();
    // A stopped HAProxy's kernel still completes the connection (backlog)
    // and keeps the command until it wakes.
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(up, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size())) {
      // HAProxy -> caretaker until HAProxy closes, or caretaker gave up
      // (its reply timeout): then the command stays queued in HAProxy.
      while (!stop_) {
        pollfd p[2] = {{up, POLLIN, 0}, {client, POLLIN, 0}};
        if (::poll(p, 2, 100) <= 0) continue;
        if (p[1].revents) {
          ssize_t n = ::read(client, buf, sizeof buf);
          if (n <= 0) break;
        }
        if (p[0].revents) {
          ssize_t n = ::read(up, buf, sizeof buf);
          if (n <= 0) break;
          if (::send(client, buf, static_cast<size_t>(n), MSG_NOSIGNAL) != n) break;
        }
      }
    }
    ::close(up);
    ::close(client);
  }

  uint16_t upstream_;
  std::string trigger_;
  std::function<void()> freeze_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fired_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> relays_;
};

// Resumes lb2 however the case ends.
struct ResumeLb2 {
  ~ResumeLb2() { RollSandbox().ResumeHaproxy(1); }
};

// The sandbox's config with lb2 reached through `relay`, replies that time
// out after 1 s, and `defaults` added to [defaults].
std::string FreezeConfig(const std::string& name, const FreezingRelay& relay, const std::string& defaults = "") {
  const uint16_t lb2 = RollSandbox().haproxies()[1].admin_tcp_port;
  std::string text = ConfigText(RollSandbox());
  text = Replaced(text, "\"tcp:127.0.0.1:" + std::to_string(lb2) + "\"",
                  "\"tcp:127.0.0.1:" + std::to_string(relay.port()) + "\"");
  text = Replaced(text, "[defaults.drain]",
                  "[defaults]\nhaproxy_reply_timeout = \"1s\"\n" + defaults + "\n[defaults.drain]");
  return WriteFileIn(RollSandbox(), name, text + "\n" + kSlowTask);
}

// Walks db1 with lb2 frozen for `freeze` from the moment `trigger` reaches it.
Run WalkWithFreeze(const std::string& trigger, std::chrono::milliseconds freeze, const std::string& defaults = "") {
  ResumeLb2 resume;
  std::atomic<bool> paused{false};
  FreezingRelay relay(RollSandbox().haproxies()[1].admin_tcp_port, trigger, [&paused] {
    RollSandbox().PauseHaproxy(1);
    paused = true;
  });
  const std::string config = FreezeConfig("freeze.toml", relay, defaults);
  Spawned roll = SpawnCaretaker(RollSandbox(), "roll --pool replicas --task slow --limit db1 --yes", config);
  for (int i = 0; i < 600 && !paused; ++i) std::this_thread::sleep_for(50ms);
  if (paused) {
    std::this_thread::sleep_for(freeze);
    RollSandbox().ResumeHaproxy(1);
  }
  Run run = Finish(roll);
  INFO(run.out << run.err);
  CHECK(paused);  // the trigger reached lb2
  return run;
}

// `change` is how the notes name it ("the drain"). Once it wakes, lb2 may
// answer the walk's fresh read before it runs the command queued while it was
// stopped: then the walk sends it again, and either way it holds.
void CheckFinishedWithEveryMemberBack(const Run& run, const std::string& operation, const std::string& change) {
  INFO(run.out << run.err);
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("pool replicas: 1 of 1 done") != std::string::npos);
  CHECK(run.err.find("lb2 does not answer '" + operation + "'; re-reading it for up to 30s") != std::string::npos);
  CHECK(run.err.find("lb2 answers again after ") != std::string::npos);
  const bool held = run.err.find("s; it had applied " + change) != std::string::npos;
  const bool sent_again = run.err.find("s; it had not applied " + change + ": sending it again") != std::string::npos;
  CHECK(held != sent_again);  // one of them, said once
  for (const char* s : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(s) == "0 0");
  CHECK(Caretaker("maint list --json").out.find("\"server\":\"db1\"") == std::string::npos);
}

TEST_CASE("an instance frozen for 3 s during a drain: the walk waits for it and finishes", "[roll][freeze]") {
  // given lb2 stopped as `state drain` reaches it, for 3 s (1 s reply
  // timeout); expect: the walk says lb2 does not answer, then that it
  // answers again (and what it held), and finishes with all READY.
  Run run = WalkWithFreeze("set server replicas/db1 state drain", 3s);
  CheckFinishedWithEveryMemberBack(run, "set server replicas/db1 state drain", "the drain");
}

TEST_CASE("an instance frozen for 3 s during MAINT: the walk waits for it and finishes", "[roll][freeze]") {
  Run run = WalkWithFreeze("set server replicas/db1 state maint", 3s);
  CheckFinishedWithEveryMemberBack(run, "set server replicas/db1 state maint", "the maint");
}

TEST_CASE("an instance frozen for 3 s during READY: the walk waits for it and finishes", "[roll][freeze]") {
  Run run = WalkWithFreeze("set server replicas/db1 state ready", 3s);
  CheckFinishedWithEveryMemberBack(run, "set server replicas/db1 state ready", "state ready");
}

TEST_CASE("an instance frozen past the deadline: the member fails held out with its record", "[roll][freeze]") {
  // given a 2 s deadline and lb2 stopped for 12 s from the drain (past the
  // drain's wait and the restore's); expect: exit 1, db1 reported out of
  // traffic with its record kept, the give-up said; `job restore` puts it back.
  Run run = WalkWithFreeze("set server replicas/db1 state drain", 12s,
                           "haproxy_unresponsive_deadline = \"2s\"\n");
  INFO(run.out << run.err);
  CHECK(run.exit_code == 1);
  CHECK(run.out.find("OUT OF TRAFFIC: replicas/db1") != std::string::npos);
  CHECK(run.err.find("lb2 does not answer 'set server replicas/db1 state drain'; re-reading it for up to 2s") !=
        std::string::npos);
  CHECK(run.err.find("lb2 did not answer 'set server replicas/db1 state drain' for ") != std::string::npos);
  // Each fact once, naming the instance and what every instance holds now;
  // the lines after it refer to it in a few words.
  CHECK(run.err.find("RESTORING FAILED, IT MAY BE OUT OF TRAFFIC: ") != std::string::npos);
  CHECK(run.err.find("(now: lb1 READY, lb2 cannot be read)") != std::string::npos);
  CHECK(run.err.find("stopping: db1 failed\n") != std::string::npos);
  CHECK(run.out.find("replicas/db1") != std::string::npos);
  CHECK(run.out.find("the drain failed; out of traffic\n") != std::string::npos);
  CHECK(Caretaker("maint list --json").out.find("\"server\":\"db1\"") != std::string::npos);
  const std::string id = JobIdOf(run.err);
  REQUIRE_FALSE(id.empty());
  Run restore = Caretaker("job restore " + id);
  INFO(restore.out << restore.err);
  CHECK(restore.exit_code == 0);
  for (const char* s : {"db1", "db2", "db3", "db4"}) CHECK(AdminStates(s) == "0 0");
}

}  // namespace
}  // namespace caretaker
