// The apply-to-all operations against a fake runtime API on a unix socket
// that can freeze (as a SIGSTOPped HAProxy: connections are accepted and
// read, but answered and applied only when it thaws) or go away (as during a
// reload: connections are refused, and what was in flight is lost).
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "haproxy/backend_view.h"
#include "tests/unit/temp_dir.h"

namespace caretaker::haproxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Local = asio::local::stream_protocol;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// One server, replicas/db1, on a fake runtime API: `show servers state
// replicas` and `set server replicas/db1 state|weight ...`.
class FakeHaproxy {
 public:
  FakeHaproxy(asio::io_context& io, std::string path) : io_(io), path_(std::move(path)) { Listen(); }

  // Answers (and applies) nothing until `d` from now; what arrives meanwhile
  // is applied in order when it thaws.
  void FreezeFor(std::chrono::milliseconds d) { thaw_at_ = Clock::now() + d; }
  // Refuses connections (the socket is gone) and loses what is in flight,
  // until Up().
  void Down() {
    down_ = true;
    acceptors_.back()->close();
    ::unlink(path_.c_str());
  }
  void Up() {
    down_ = false;
    if (!stopped_) Listen();
  }
  // Ends the accept loop; frozen connections still finish when they thaw.
  void Stop() {
    stopped_ = true;
    acceptors_.back()->close();
  }

  uint32_t admin = 0;  // srv_admin_state
  int uweight = 10;
  int iweight = 10;
  std::vector<std::string> applied;  // the set commands, in the order applied

 private:
  void Listen() {
    ::unlink(path_.c_str());
    acceptors_.push_back(std::make_unique<Local::acceptor>(io_, Local::endpoint(path_)));
    asio::co_spawn(io_, Accept(*acceptors_.back()), asio::detached);
  }

  asio::awaitable<void> Accept(Local::acceptor& acceptor) {
    for (;;) {
      auto accepting = acceptor.async_accept(kTuple);
      auto [ec, socket] = co_await std::move(accepting);
      if (ec) co_return;
      asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<void> Serve(Local::socket socket) {
    std::string line;
    auto reading = asio::async_read_until(socket, asio::dynamic_buffer(line), '\n', kTuple);
    auto [ec, n] = co_await std::move(reading);
    if (ec) co_return;
    line.resize(n - 1);
    if (Clock::now() < thaw_at_) {
      // Thawed in the order they arrived (timers due at the same time are not).
      last_thaw_ = std::max(thaw_at_, last_thaw_ + std::chrono::microseconds(1));
      asio::steady_timer thaw(io_, last_thaw_);
      auto waiting = thaw.async_wait(kTuple);
      co_await std::move(waiting);
    }
    if (down_) co_return;  // a reload lost it
    std::string reply = Answer(line);
    auto writing = asio::async_write(socket, asio::buffer(reply), kTuple);
    co_await std::move(writing);  // the client may be gone: applied all the same
  }

  std::string Answer(const std::string& line) {
    const std::string set = "set server replicas/db1 ";
    if (line == "show servers state replicas") {
      return "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
             "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
             "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
             "srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"
             "2 replicas 1 db1 127.0.0.1 2 " + std::to_string(admin) + " " + std::to_string(uweight) + " " +
             std::to_string(iweight) + " 3 1 0 2 0 0 0 0 - 25002 - 0 0 - - 0\n\n";
    }
    if (line.rfind("set server replicas/", 0) == 0 && line.rfind(set, 0) != 0) return "No such server.\n\n";
    if (line.rfind(set, 0) != 0) return "Unknown command.\n\n";
    applied.push_back(line);
    const std::string what = line.substr(set.size());
    if (what == "state ready") admin = 0;
    else if (what == "state drain") admin = 0x08;
    else if (what == "state maint") admin = 0x01;
    else if (what.rfind("weight ", 0) == 0) uweight = iweight * std::stoi(what.substr(7)) / 100;
    return "\n";
  }

  asio::io_context& io_;
  std::string path_;
  std::vector<std::unique_ptr<Local::acceptor>> acceptors_;  // the last one listens
  Clock::time_point thaw_at_{};
  Clock::time_point last_thaw_{};
  bool down_ = false;
  bool stopped_ = false;
};

struct Rig {
  TempDir dir;
  asio::io_context io;
  FakeHaproxy lb2{io, dir.path() + "/lb2.sock"};
  // Impatient timeouts: a freeze of 600 ms outlasts several replies.
  Client client{Instance{"lb2", {Endpoint::Kind::kUnix, dir.path() + "/lb2.sock", "", 0}, 200ms, 200ms}};
  std::vector<ApplyNote> told;  // what on_note was told, as it happened

  ApplyOptions Options(std::chrono::milliseconds deadline) {
    ApplyOptions options;
    options.unresponsive_deadline = deadline;
    options.reread_interval = 50ms;
    options.on_note = [this](const ApplyNote& note) { told.push_back(note); };
    return options;
  }

  // Runs `op` to its end, and the fake until what it holds is done.
  ApplyReport Run(asio::awaitable<ApplyReport> op) {
    ApplyReport report;
    asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, ApplyReport r) {
      if (e) std::rethrow_exception(e);
      report = std::move(r);
      lb2.Stop();
    });
    io.run();
    return report;
  }
};

std::vector<ApplyNote::Kind> Kinds(const std::vector<ApplyNote>& notes) {
  std::vector<ApplyNote::Kind> out;
  for (const ApplyNote& n : notes) out.push_back(n.kind);
  return out;
}

using K = ApplyNote::Kind;

TEST_CASE("a drain sent to a frozen instance is confirmed once it thaws: it had applied it", "[haproxy][apply]") {
  // given lb2 frozen for 600 ms (replies time out after 200 ms), a deadline
  // of 5 s; expect: ok, the drain applied once, and two notes: stalled, then
  // answered "it had applied the drain".
  Rig rig;
  rig.lb2.FreezeFor(600ms);
  std::vector<const Client*> clients{&rig.client};
  const auto started = Clock::now();
  ApplyReport report = rig.Run(SetStateEverywhere(clients, "replicas", "db1", AdminState::kDrain, rig.Options(5s)));
  const auto took = Clock::now() - started;
  INFO(report.FailureSummary());
  CHECK(report.ok());
  CHECK(rig.lb2.admin == 0x08);
  CHECK(rig.lb2.applied == std::vector<std::string>{"set server replicas/db1 state drain"});
  REQUIRE(report.outcomes.size() == 1);
  const auto& notes = report.notes;
  REQUIRE(Kinds(notes) == std::vector<K>{K::kStalled, K::kAnswered});
  CHECK(notes[0].message ==
        "lb2 does not answer 'set server replicas/db1 state drain'; re-reading it for up to 5s");
  CHECK_THAT(notes[1].message, Catch::StartsWith("lb2 answers again after ") &&
                                   Catch::EndsWith("s; it had applied the drain"));
  CHECK(notes[1].silent >= 200ms);
  CHECK(Kinds(rig.told) == Kinds(notes));  // told as it happened, too
  CHECK(took < 2s);
}

TEST_CASE("a frozen instance during set weight is confirmed once it thaws", "[haproxy][apply]") {
  Rig rig;
  rig.lb2.FreezeFor(600ms);
  std::vector<const Client*> clients{&rig.client};
  ApplyReport report =
      rig.Run(SetWeightEverywhere(clients, "replicas", "db1", Weight{50, true}, rig.Options(5s)));
  INFO(report.FailureSummary());
  CHECK(report.ok());
  CHECK(rig.lb2.uweight == 5);
  REQUIRE(Kinds(report.notes) == std::vector<K>{K::kStalled, K::kAnswered});
  CHECK_THAT(report.notes[1].message, Catch::EndsWith("it had applied weight 50%"));
}

TEST_CASE("an instance that lost the command while it reloaded gets it again", "[haproxy][apply]") {
  // given lb2 down (connections refused) when the maint is sent, up again
  // 500 ms later without it; expect: ok, answered "had not applied the maint:
  // sending it again", and the maint applied once, by the second send.
  Rig rig;
  rig.lb2.Down();
  asio::steady_timer later(rig.io, 500ms);
  later.async_wait([&](const boost::system::error_code&) { rig.lb2.Up(); });
  std::vector<const Client*> clients{&rig.client};
  ApplyReport report = rig.Run(SetStateEverywhere(clients, "replicas", "db1", AdminState::kMaint, rig.Options(5s)));
  INFO(report.FailureSummary());
  CHECK(report.ok());
  CHECK(rig.lb2.admin == 0x01);
  CHECK(rig.lb2.applied == std::vector<std::string>{"set server replicas/db1 state maint"});
  const auto& notes = report.notes;
  REQUIRE(Kinds(notes) == std::vector<K>{K::kStalled, K::kAnswered});
  CHECK_THAT(notes[1].message, Catch::EndsWith("it had not applied the maint: sending it again"));
}

TEST_CASE("an instance frozen past the deadline fails as before, naming the wait", "[haproxy][apply]") {
  // given lb2 frozen for 1.2 s and a deadline of 300 ms; expect: the timeout
  // error, with the wait in its message, and notes stalled then gave up.
  Rig rig;
  rig.lb2.FreezeFor(1200ms);
  std::vector<const Client*> clients{&rig.client};
  ApplyReport report = rig.Run(SetStateEverywhere(clients, "replicas", "db1", AdminState::kReady, rig.Options(300ms)));
  CHECK_FALSE(report.ok());
  REQUIRE(report.outcomes[0].error);
  CHECK(report.outcomes[0].error->code == ErrorCode::kTimeout);
  CHECK_THAT(report.FailureSummary(), Catch::Contains("lb2") && Catch::Contains("without an answer"));
  REQUIRE(Kinds(report.notes) == std::vector<K>{K::kStalled, K::kGaveUp});
  CHECK_THAT(report.notes[1].message, Catch::StartsWith("lb2 did not answer 'set server "
                                                                    "replicas/db1 state ready' for "));
}

TEST_CASE("without a deadline the first timeout is the outcome, with no notes", "[haproxy][apply]") {
  Rig rig;
  rig.lb2.FreezeFor(600ms);
  std::vector<const Client*> clients{&rig.client};
  ApplyReport report = rig.Run(SetStateEverywhere(clients, "replicas", "db1", AdminState::kDrain, rig.Options(0ms)));
  CHECK_FALSE(report.ok());
  CHECK(report.outcomes[0].error->code == ErrorCode::kTimeout);
  CHECK(report.notes.empty());
  CHECK(rig.told.empty());
}

TEST_CASE("an answer that is an error is the outcome at once, however long the deadline", "[haproxy][apply]") {
  Rig rig;
  std::vector<const Client*> clients{&rig.client};
  const auto started = Clock::now();
  ApplyReport report = rig.Run(SetStateEverywhere(clients, "replicas", "db9", AdminState::kDrain, rig.Options(5s)));
  CHECK_FALSE(report.ok());
  CHECK(report.outcomes[0].error->code == ErrorCode::kNoSuchServer);
  CHECK(report.notes.empty());
  CHECK(Clock::now() - started < 1s);
}

}  // namespace
}  // namespace caretaker::haproxy
