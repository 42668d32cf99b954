// The HAProxy client against real HAProxy instances of the shared sandbox.
// Each test leaves every server READY again.
#include <mysql.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <sstream>
#include <thread>

#include "haproxy/backend_view.h"
#include "src/config/config.h"
#include "src/run/fleet.h"
#include "tests/integration/loopback.h"
#include "tests/integration/run_sync.h"
#include "tests/sandbox/sandbox.h"

namespace caretaker {
namespace {

using haproxy::AdminState;
using haproxy::ErrorCode;
using testing::RunSync;

Fleet SandboxFleet() {
  auto config = LoadConfig(sandbox::Shared().config_path());
  REQUIRE(config);
  return Fleet::FromConfig(config.value());
}

// A field of one server's row in a literal `show servers state` reply,
// read by the harness, not by caretaker's parser.
std::string RawAdminState(size_t lb, const std::string& server) {
  std::istringstream in(sandbox::Shared().HaproxyCommand(lb, "show servers state replicas"));
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::vector<std::string> f;
    for (std::string w; words >> w;) f.push_back(w);
    if (f.size() > 1 && f[0] == "#") header.assign(f.begin() + 1, f.end());
    if (header.empty() || f.size() != header.size() || f[3] != server) continue;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == "srv_admin_state") return f[i];
    }
  }
  return "not found";
}

// The `status` column of one server in a literal `show stat` reply, found by
// the header's names.
std::string RawStatus(size_t lb, const std::string& server) {
  std::istringstream in(sandbox::Shared().HaproxyCommand(lb, "show stat"));
  auto split = [](const std::string& line) {
    std::vector<std::string> f;
    std::istringstream cells(line);
    for (std::string c; std::getline(cells, c, ',');) f.push_back(c);
    return f;
  };
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header = split(line.substr(2));  // "# pxname,..."
  size_t status = std::find(header.begin(), header.end(), "status") - header.begin();
  while (std::getline(in, line)) {
    std::vector<std::string> f = split(line);
    if (f.size() > status && f[0] == "replicas" && f[1] == server) return f[status];
  }
  return "not found";
}

// Puts every server back READY at full weight when the test ends, however it
// ends, so one failure does not cascade into the tests after it.
struct RestoreOnExit {
  const Fleet& fleet;
  ~RestoreOnExit() {
    try {
      for (const auto& r : sandbox::Shared().replicas()) {
        RunSync(haproxy::SetStateEverywhere(fleet.All(), "replicas", r.name, AdminState::kReady));
        RunSync(haproxy::SetWeightEverywhere(fleet.All(), "replicas", r.name, haproxy::Weight{100, true}));
      }
      sandbox::Shared().WaitAllUp(std::chrono::seconds(10));
    } catch (const std::exception& e) {
      FAIL_CHECK("restoring the sandbox failed: " << e.what());
    }
  }
};

// Resumes a paused HAProxy instance when the test ends.
struct ResumeOnExit {
  size_t lb;
  ~ResumeOnExit() { sandbox::Shared().ResumeHaproxy(lb); }
};

// A client of sandbox instance `lb` over its tcp admin socket, with short timeouts.
haproxy::Client ImpatientClient(size_t lb, std::chrono::milliseconds timeout) {
  const auto& node = sandbox::Shared().haproxies()[lb];
  return haproxy::Client(haproxy::Instance{
      node.name, {haproxy::Endpoint::Kind::kTcp, "", "127.0.0.1", node.admin_tcp_port}, timeout, timeout});
}

TEST_CASE("drain on every instance shows DRAIN in show stat and bit 0x08 in show servers state", "[haproxy]") {
  Fleet fleet = SandboxFleet();
  RestoreOnExit restore{fleet};
  auto report = RunSync(haproxy::SetStateEverywhere(fleet.All(), "replicas", "db1", AdminState::kDrain));
  INFO(report.FailureSummary());
  REQUIRE(report.ok());
  REQUIRE(report.outcomes.size() == 2);
  for (size_t lb = 0; lb < 2; ++lb) {
    CHECK(RawStatus(lb, "db1") == "DRAIN");
    CHECK(RawAdminState(lb, "db1") == "8");
    CHECK(RawAdminState(lb, "db2") == "0");
  }
  auto dumps = RunSync(haproxy::ReadInstances(fleet.All(), "replicas"));
  auto view = haproxy::MergeBackend("replicas", dumps, {"db1", "db2", "db3"});
  REQUIRE(view.servers.size() == 3);
  CHECK(view.servers[0].out_everywhere);
  CHECK(view.servers[0].agree);
  CHECK(view.servers[0].admin == haproxy::Admin::kDrain);
  CHECK_FALSE(view.servers[0].up_everywhere);
  CHECK(view.servers[1].up_everywhere);

  report = RunSync(haproxy::SetStateEverywhere(fleet.All(), "replicas", "db1", AdminState::kMaint));
  REQUIRE(report.ok());
  for (size_t lb = 0; lb < 2; ++lb) {
    CHECK(RawStatus(lb, "db1") == "MAINT");
    CHECK(RawAdminState(lb, "db1") == "1");
  }
  report = RunSync(haproxy::SetStateEverywhere(fleet.All(), "replicas", "db1", AdminState::kReady));
  REQUIRE(report.ok());
  for (size_t lb = 0; lb < 2; ++lb) CHECK(RawAdminState(lb, "db1") == "0");
}

TEST_CASE("a server drained on one instance only is visible as disagreement", "[haproxy]") {
  Fleet fleet = SandboxFleet();
  RestoreOnExit restore{fleet};
  auto lb1 = std::vector<const haproxy::Client*>{fleet.Find("lb1")};
  REQUIRE(RunSync(haproxy::SetStateEverywhere(lb1, "replicas", "db2", AdminState::kDrain)).ok());
  auto view = haproxy::MergeBackend("replicas", RunSync(haproxy::ReadInstances(fleet.All(), "replicas")),
                                    {"db1", "db2", "db3"});
  const auto& db2 = view.servers[1];
  CHECK_FALSE(db2.agree);
  CHECK_FALSE(db2.admin.has_value());
  CHECK_FALSE(db2.out_everywhere);
  CHECK(db2.instances[0].admin == haproxy::Admin::kDrain);
  CHECK(db2.instances[1].admin == haproxy::Admin::kReady);
}

// Opens a MySQL session through lb1's frontend; returns the port of the
// replica HAProxy chose.
struct ClientSession {
  MYSQL* mysql = nullptr;
  ~ClientSession() {
    if (mysql) mysql_close(mysql);
  }
};

unsigned OpenThroughLb(ClientSession& s, uint16_t frontend_port) {
  s.mysql = mysql_init(nullptr);
  unsigned timeout = 5, protocol = MYSQL_PROTOCOL_TCP;
  mysql_options(s.mysql, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(s.mysql, MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_options(s.mysql, MYSQL_OPT_PROTOCOL, &protocol);
  const auto& sb = sandbox::Shared();
  REQUIRE(mysql_real_connect(s.mysql, "127.0.0.1", "caretaker", sb.mysql_password().c_str(), nullptr,
                             frontend_port, nullptr, 0) != nullptr);
  REQUIRE(mysql_query(s.mysql, "SELECT @@port") == 0);
  MYSQL_RES* res = mysql_store_result(s.mysql);
  REQUIRE(res != nullptr);
  MYSQL_ROW row = mysql_fetch_row(res);
  unsigned port = static_cast<unsigned>(std::stoul(row[0]));
  mysql_free_result(res);
  return port;
}

TEST_CASE("an open client session is scur 1 on its server, and shutdown sessions ends it", "[haproxy]") {
  Fleet fleet = SandboxFleet();
  RestoreOnExit restore{fleet};
  const auto& sb = sandbox::Shared();
  ClientSession session;
  unsigned port = OpenThroughLb(session, sb.haproxies()[0].frontend_port);
  std::string server;
  for (const auto& r : sb.replicas()) {
    if (r.port == port) server = r.name;
  }
  REQUIRE_FALSE(server.empty());

  auto view = haproxy::MergeBackend("replicas", RunSync(haproxy::ReadInstances(fleet.All(), "replicas")),
                                    {"db1", "db2", "db3"});
  for (const auto& s : view.servers) {
    INFO(s.server);
    CHECK(s.instances[0].stat.scur == (s.server == server ? 1 : 0));  // lb1 carries it
    CHECK(s.instances[1].stat.scur == 0);                              // lb2 does not
    CHECK(s.sessions == (s.server == server ? 1 : 0));
  }

  // A drain keeps established sessions (mode tcp): still scur 1, now DRAIN.
  REQUIRE(RunSync(haproxy::SetStateEverywhere(fleet.All(), "replicas", server, AdminState::kDrain)).ok());
  view = haproxy::MergeBackend("replicas", RunSync(haproxy::ReadInstances(fleet.All(), "replicas")), {server});
  CHECK(view.servers[0].instances[0].stat.status.raw == "DRAIN");
  CHECK(view.servers[0].sessions == 1);
  CHECK(mysql_query(session.mysql, "SELECT 1") == 0);
  mysql_free_result(mysql_store_result(session.mysql));

  auto report = RunSync(haproxy::ShutdownSessionsEverywhere(fleet.All(), "replicas", server));
  INFO(report.FailureSummary());
  REQUIRE(report.ok());
  CHECK(mysql_query(session.mysql, "SELECT 1") != 0);  // the server side is gone
  unsigned err = mysql_errno(session.mysql);
  CHECK((err == 2013 || err == 2006));  // lost connection / server has gone away
}

TEST_CASE("unknown backend and unknown server are typed errors", "[haproxy]") {
  Fleet fleet = SandboxFleet();
  const haproxy::Client& lb1 = *fleet.Find("lb1");
  auto no_backend = RunSync(lb1.SetState("nosuchbackend", "db1", AdminState::kDrain));
  REQUIRE_FALSE(no_backend);
  CHECK(no_backend.error().code == ErrorCode::kNoSuchBackend);
  CHECK_THAT(no_backend.error().message, Catch::Contains("lb1") && Catch::Contains("nosuchbackend"));

  auto no_server = RunSync(lb1.SetState("replicas", "db99", AdminState::kDrain));
  REQUIRE_FALSE(no_server);
  CHECK(no_server.error().code == ErrorCode::kNoSuchServer);

  auto state = RunSync(lb1.ShowServersState("nosuchbackend"));
  REQUIRE_FALSE(state);
  CHECK(state.error().code == ErrorCode::kNoSuchBackend);

  auto report = RunSync(haproxy::SetStateEverywhere(fleet.All(), "replicas", "db99", AdminState::kDrain));
  CHECK_FALSE(report.ok());
  CHECK(report.outcomes.size() == 2);
  for (const auto& o : report.outcomes) {
    REQUIRE(o.error);
    CHECK(o.error->code == ErrorCode::kNoSuchServer);
  }
}

TEST_CASE("the operator-level socket gives the permission error and changes nothing", "[haproxy]") {
  const auto& lb = sandbox::Shared().haproxies()[0];
  REQUIRE_FALSE(lb.operator_socket.empty());
  haproxy::Client oper(haproxy::Instance{"lb1-oper", {haproxy::Endpoint::Kind::kUnix, lb.operator_socket, "", 0}});
  auto r = RunSync(oper.SetState("replicas", "db1", AdminState::kDrain));
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kPermissionDenied);
  CHECK_THAT(r.error().message, Catch::Contains("level admin") && Catch::Contains("lb1-oper"));
  CHECK(RawAdminState(0, "db1") == "0");
  // Reading is allowed at operator level.
  CHECK(RunSync(oper.ShowStat()));
}

TEST_CASE("a hung instance gives a timeout error naming it, quickly", "[haproxy]") {
  auto& sb = sandbox::Shared();
  haproxy::Client client = ImpatientClient(1, std::chrono::milliseconds(300));
  sb.PauseHaproxy(1);
  ResumeOnExit resume{1};
  auto start = std::chrono::steady_clock::now();
  auto r = RunSync(client.ShowStat());
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK_THAT(r.error().message, Catch::Contains("lb2") && Catch::Contains("no reply within 300ms"));
  CHECK(elapsed < std::chrono::seconds(2));  // bounded by the 300 ms timeouts, with slack
}

TEST_CASE("a change that fails on one instance is reported for that instance only", "[haproxy]") {
  // Given lb1 answering and lb2 hung, a drain of db3 succeeds and is confirmed
  // on lb1, and lb2's outcome is its timeout: a partial success is a failure.
  Fleet fleet = SandboxFleet();
  RestoreOnExit restore{fleet};
  haproxy::Client lb1 = ImpatientClient(0, std::chrono::milliseconds(500));
  haproxy::Client lb2 = ImpatientClient(1, std::chrono::milliseconds(300));
  auto& sb = sandbox::Shared();
  {
    sb.PauseHaproxy(1);
    ResumeOnExit resume{1};
    auto report = RunSync(haproxy::SetStateEverywhere({&lb1, &lb2}, "replicas", "db3", AdminState::kDrain));
    CHECK_FALSE(report.ok());
    REQUIRE(report.outcomes.size() == 2);
    CHECK_FALSE(report.outcomes[0].error.has_value());
    REQUIRE(report.outcomes[1].error.has_value());
    CHECK(report.outcomes[1].error->code == ErrorCode::kTimeout);
    CHECK_THAT(report.FailureSummary(), Catch::StartsWith("haproxy lb2 (tcp:127.0.0.1:") &&
                                            !Catch::Contains("lb1"));
  }
  CHECK(RawAdminState(0, "db3") == "8");
  // The command reached lb2's socket before it hung: once it wakes, lb2
  // applies it (soon, not at once: under load it first catches up with the
  // time it was stopped). A timeout says "unknown", never "not applied".
  std::string on_lb2 = RawAdminState(1, "db3");
  for (int i = 0; i < 40 && on_lb2 != "8"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    on_lb2 = RawAdminState(1, "db3");
  }
  CHECK(on_lb2 == "8");
}

TEST_CASE("an instance that does not accept the connection gives a connect timeout", "[haproxy]") {
  // A listener whose backlog is full: the kernel drops further SYNs, so
  // connect() hangs, as it does for a firewalled or dead host.
  testing::SilentListener full(0);
  full.FillBacklog(4);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  haproxy::Client client(haproxy::Instance{"lb7", {haproxy::Endpoint::Kind::kTcp, "", "127.0.0.1", full.port()},
                                           std::chrono::milliseconds(300), std::chrono::milliseconds(300)});
  auto start = std::chrono::steady_clock::now();
  auto r = RunSync(client.ShowStat());
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kTimeout);
  CHECK_THAT(r.error().message, Catch::Contains("lb7") && Catch::Contains("no connection within 300ms"));
  CHECK(elapsed < std::chrono::seconds(2));
}

TEST_CASE("show info of a real instance", "[haproxy]") {
  Fleet fleet = SandboxFleet();
  auto info = RunSync(fleet.Find("lb1")->ShowInfo());
  REQUIRE(info);
  CHECK_THAT(info.value().version, Catch::StartsWith("2."));
  CHECK(info.value().pid == sandbox::Shared().haproxies()[0].pid);
}

TEST_CASE("a socket nobody listens on gives a connect error naming it", "[haproxy]") {
  haproxy::Client client(haproxy::Instance{
      "lb9", {haproxy::Endpoint::Kind::kUnix, sandbox::Shared().dir() + "/nothing.sock", "", 0}});
  auto r = RunSync(client.ShowStat());
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kConnect);
  CHECK_THAT(r.error().message, Catch::Contains("lb9") && Catch::Contains("nothing.sock"));
}

TEST_CASE("weights are set and confirmed on every instance", "[haproxy]") {
  Fleet fleet = SandboxFleet();
  RestoreOnExit restore{fleet};
  auto uweights = [&] {
    std::vector<int> out;
    for (const auto& d : RunSync(haproxy::ReadInstances(fleet.All(), "replicas"))) {
      for (const auto& s : d.states) {
        if (s.server == "db3") out.push_back(s.uweight);
      }
    }
    return out;
  };
  auto report = RunSync(haproxy::SetWeightEverywhere(fleet.All(), "replicas", "db3", haproxy::Weight{20, false}));
  INFO(report.FailureSummary());
  REQUIRE(report.ok());
  CHECK(uweights() == std::vector<int>{20, 20});
  // A percentage is of the initial weight (1 in the sandbox), rounded down.
  report = RunSync(haproxy::SetWeightEverywhere(fleet.All(), "replicas", "db3", haproxy::Weight{50, true}));
  REQUIRE(report.ok());
  CHECK(uweights() == std::vector<int>{0, 0});
  // Weight 0 shows UP in show stat, but the server takes no traffic.
  auto view = haproxy::MergeBackend("replicas", RunSync(haproxy::ReadInstances(fleet.All(), "replicas")),
                                    {"db1", "db2", "db3"});
  CHECK(view.servers[2].instances[0].stat.status.raw == "UP");
  CHECK_FALSE(view.servers[2].up_everywhere);

  auto range = RunSync(fleet.Find("lb1")->SetWeight("replicas", "db3", haproxy::Weight{300, false}));
  REQUIRE_FALSE(range);
  CHECK(range.error().code == ErrorCode::kRejected);
  CHECK_THAT(range.error().message, Catch::Contains("between 0 and 256"));
}

TEST_CASE("show stat of one backend by id: only its servers, even with a frontend of its name", "[haproxy]") {
  // The sandbox has backends replicas, replicas_static and replicas_weighted,
  // each with db1..dbN, and a frontend named replicas_weighted declared before
  // its backend (`show stat replicas_weighted` would answer with the frontend).
  Fleet fleet = SandboxFleet();
  const haproxy::Client& lb1 = *fleet.Find("lb1");
  const size_t replicas = sandbox::Shared().replicas().size();
  auto all = RunSync(lb1.ShowStat());
  REQUIRE(all);
  CHECK(all.value().size() == 3 * replicas);
  for (const std::string backend : {"replicas_static", "replicas_weighted"}) {
    INFO(backend);
    auto states = RunSync(lb1.ShowServersState(backend));
    REQUIRE(states);
    REQUIRE_FALSE(states.value().empty());
    auto one = RunSync(lb1.ShowBackendStat(states.value().front().backend_id, backend));
    REQUIRE(one);
    REQUIRE(one.value().size() == replicas);
    for (const auto& s : one.value()) CHECK(s.backend == backend);
    // Read as a pool is: every member present, with its health.
    auto dumps = RunSync(haproxy::ReadInstances({&lb1}, backend));
    REQUIRE(dumps.size() == 1);
    REQUIRE_FALSE(dumps[0].error);
    CHECK(dumps[0].stats.size() == replicas);
    CHECK(dumps[0].states.size() == replicas);
  }
  // By name, HAProxy answers with the frontend: no server rows at all.
  auto by_name = RunSync(lb1.Execute("show stat replicas_weighted 4 -1"));
  REQUIRE(by_name);
  CHECK(by_name.value().find("replicas_weighted,db1,") == std::string::npos);
  // An id that is another backend's: its rows are not taken for this one's.
  auto states = RunSync(lb1.ShowServersState("replicas"));
  REQUIRE(states);
  auto wrong = RunSync(lb1.ShowBackendStat(states.value().front().backend_id, "replicas_static"));
  REQUIRE(wrong);
  CHECK(wrong.value().empty());
}

}  // namespace
}  // namespace caretaker
