// Merging what several instances say of one backend, from real captured replies.
#include <catch2/catch.hpp>

#include "haproxy/backend_view.h"
#include "src/config/config.h"
#include "src/cli/status_cmd.h"
#include "tests/unit/haproxy_fixture.h"

namespace caretaker::haproxy {
namespace {

using testing::ReadFixture;

InstanceDump Dump(const std::string& name, const char* stat, const char* state) {
  InstanceDump d;
  d.instance = name;
  d.stats = ParseShowStat(ReadFixture(stat)).value();
  d.states = ParseServersState(ReadFixture(state)).value();
  return d;
}

// Given lb1 in the "mixed" capture and lb2 in the "down" capture.
std::vector<InstanceDump> TwoInstances() {
  return {Dump("lb1", "show-stat-mixed.csv", "show-servers-state-mixed.txt"),
          Dump("lb2", "show-stat-down.csv", "show-servers-state-down.txt")};
}

const MergedServer& Find(const BackendView& v, const std::string& name) {
  for (const auto& s : v.servers) {
    if (s.server == name) return s;
  }
  FAIL("no server " << name);
  throw;
}

TEST_CASE("a server drained on every instance is out everywhere, even where it is also DOWN", "[view]") {
  BackendView v = MergeBackend("replicas", TwoInstances(), {});
  const MergedServer& f = Find(v, "f");
  CHECK(f.agree);
  CHECK(f.admin == Admin::kDrain);
  CHECK(f.out_everywhere);
  CHECK_FALSE(f.up_everywhere);
  CHECK(f.instances[1].stat.status.raw == "DOWN");  // show stat hides the drain there
}

TEST_CASE("instances that disagree are visible", "[view]") {
  BackendView v = MergeBackend("replicas", TwoInstances(), {});
  const MergedServer& a = Find(v, "a");  // maint on lb1, ready (and down) on lb2
  CHECK_FALSE(a.agree);
  CHECK_FALSE(a.admin.has_value());
  CHECK_FALSE(a.out_everywhere);
  CHECK(a.instances[0].admin == Admin::kMaint);
  CHECK(a.instances[1].admin == Admin::kReady);
  const MergedServer& d = Find(v, "d");  // inherits maint from a on lb1 (bit 0x02)
  CHECK(d.instances[0].admin == Admin::kMaint);
  CHECK_FALSE(d.agree);
}

TEST_CASE("in service means READY and UP (or no check) on every instance", "[view]") {
  BackendView v = MergeBackend("replicas", TwoInstances(), {});
  CHECK(Find(v, "b").up_everywhere);  // no check on both
  CHECK_FALSE(Find(v, "h").up_everywhere);  // UP on lb1, DOWN on lb2
  CHECK_FALSE(Find(v, "c").up_everywhere);  // DOWN on both
  CHECK(Find(v, "c").agree);
  CHECK(Find(v, "g").admin == Admin::kMaint);
  CHECK(Find(v, "g").out_everywhere);
}

TEST_CASE("configured order first, unknown servers after, missing ones listed", "[view]") {
  BackendView v = MergeBackend("replicas", TwoInstances(), {"h", "zz", "a"});
  std::vector<std::string> names;
  for (const auto& s : v.servers) names.push_back(s.server);
  CHECK(names == std::vector<std::string>{"h", "zz", "a", "b", "c", "d", "f", "g"});
  const MergedServer& zz = v.servers[1];
  CHECK_FALSE(zz.instances[0].present);
  CHECK_FALSE(zz.agree);
  CHECK_FALSE(zz.out_everywhere);
}

TEST_CASE("an unreachable instance makes nothing 'everywhere'", "[view]") {
  auto dumps = TwoInstances();
  dumps[1] = InstanceDump{"lb2", Error{ErrorCode::kTimeout, "haproxy lb2 (tcp:x:1): no reply"}, {}, {}};
  BackendView v = MergeBackend("replicas", dumps, {});
  CHECK(v.unreachable == std::vector<std::string>{"lb2"});
  const MergedServer& f = Find(v, "f");
  CHECK(f.admin == Admin::kDrain);  // what was read agrees
  CHECK_FALSE(f.agree);             // but not everything was read
  CHECK_FALSE(f.out_everywhere);
  CHECK(f.instances[1].error.has_value());
}

TEST_CASE("an index of the dumps merges each backend as MergeBackend does", "[view]") {
  std::vector<InstanceDump> dumps = TwoInstances();
  DumpIndex index(dumps);
  std::vector<const InstanceDump*> both = {&dumps[0], &dumps[1]};
  for (const std::vector<std::string>& order : {std::vector<std::string>{}, std::vector<std::string>{"f", "zz"}}) {
    BackendView direct = MergeBackend("replicas", both, order);
    BackendView indexed = index.Merge("replicas", both, order);
    REQUIRE(indexed.servers.size() == direct.servers.size());
    for (size_t i = 0; i < direct.servers.size(); ++i) {
      CHECK(indexed.servers[i].server == direct.servers[i].server);
      CHECK(indexed.servers[i].agree == direct.servers[i].agree);
      CHECK(indexed.servers[i].sessions == direct.servers[i].sessions);
      CHECK(HealthByInstance(indexed.servers[i]) == HealthByInstance(direct.servers[i]));
    }
  }
  CHECK(index.Lists(dumps[0], "replicas"));
  CHECK_FALSE(index.Lists(dumps[0], "nosuch"));
  BackendView none = index.Merge("nosuch", both, {"db1"});
  REQUIRE(none.servers.size() == 1);
  CHECK_FALSE(none.servers[0].instances[0].present);
}

}  // namespace
}  // namespace caretaker::haproxy

namespace caretaker {
namespace {

Config OnePool() {
  Config c;
  c.path = "t.toml";
  c.haproxy = {{"lb1", "unix:/a", {}, {}}, {"lb2", "tcp:h:1", {}, {}}};
  PoolConfig pool;
  pool.name = "main";
  pool.backend = "replicas";
  pool.haproxy = {"lb1", "lb2"};
  pool.members = {{"a", "10.0.0.1", 3306}, {"f", "10.0.0.6", 3307}};
  c.pools = {pool};
  return c;
}

TEST_CASE("status table: one line per member, each instance's state in its column", "[status]") {
  using haproxy::testing::ReadFixture;
  Config config = OnePool();
  std::vector<haproxy::InstanceDump> dumps = {
      {"lb1", std::nullopt, haproxy::ParseShowStat(ReadFixture("show-stat-mixed.csv")).value(),
       haproxy::ParseServersState(ReadFixture("show-servers-state-mixed.txt")).value()},
      {"lb2", std::nullopt, haproxy::ParseShowStat(ReadFixture("show-stat-down.csv")).value(),
       haproxy::ParseServersState(ReadFixture("show-servers-state-down.txt")).value()}};
  StatusReport report = BuildStatusReport(config, dumps);
  std::string table = RenderStatusTable(report, false);
  INFO(table);
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = table.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(table.substr(at, nl - at));
  }
  REQUIRE(lines.size() == 9);
  CHECK(lines[0] == "pool main  (backend replicas on lb1, lb2)  2 members, 0 in service");
  // Columns line up under their headers.
  size_t lb2_column = lines[1].find("lb2");
  CHECK(lines[3].find("DRAIN (DOWN)") == lb2_column);
  // Content, with runs of spaces folded.
  auto fold = [](std::string s) {
    std::string out;
    for (char c : s) {
      if (!(c == ' ' && !out.empty() && out.back() == ' ')) out += c;
    }
    return out;
  };
  CHECK(fold(lines[1]) == " SERVER MYSQL lb1 lb2 SESS CHECK POLICY");
  CHECK(fold(lines[2]) == " a 10.0.0.1:3306 MAINT DOWN 0 lb1:- lb2:L4CON OUT: drained instances disagree");
  CHECK(fold(lines[3]) == " f 10.0.0.6:3307 DRAIN DRAIN (DOWN) 0 lb1:L4OK lb2:L4CON OUT: drained");
  CHECK(fold(lines[4]) == " b (not in config) no check no check 0 - -");
  CHECK(fold(lines[6]) == " d (not in config) MAINT (via replicas/a) DOWN 0 - - instances disagree");

  std::string json = RenderStatusJson(report);
  CHECK_THAT(json, Catch::Contains(R"({"server":"f","host":"10.0.0.6","port":3307,"configured":true,"admin":"DRAIN",)"
                                   R"("agree":true,"in_service":false,"out_everywhere":true,)"
                                   R"("policy":{"state":"drained","counts_as_out":true},"sessions":0,)"));
  CHECK_THAT(json, Catch::Contains(R"({"server":"b","configured":false,"admin":"READY")"));
  CHECK_THAT(json, Catch::EndsWith(R"("errors":[]})"));
}

TEST_CASE("status names a backend that an instance does not have", "[status]") {
  Config config = OnePool();
  config.pools[0].backend = "nosuch";
  std::vector<haproxy::InstanceDump> dumps = {{"lb1", std::nullopt, {}, {}}, {"lb2", std::nullopt, {}, {}}};
  StatusReport report = BuildStatusReport(config, dumps);
  CHECK(report.pools[0].backend_missing_on == std::vector<std::string>{"lb1", "lb2"});
  CHECK_THAT(RenderStatusTable(report, false), Catch::Contains("! backend nosuch does not exist on lb1"));
}

}  // namespace
}  // namespace caretaker
