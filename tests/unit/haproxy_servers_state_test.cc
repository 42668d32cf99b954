// Tests of the `show servers state` parser against replies captured from
// HAProxy 2.6.12 (tests/fixtures/haproxy/README.md says how each was produced).
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "haproxy/servers_state.h"
#include "haproxy_fixture.h"

namespace caretaker::haproxy {
namespace {

using testing::ErrorOf;
using testing::ReadFixture;
using testing::ValueOf;

std::string Describe(const ServerState& s) {
  return std::to_string(s.backend_id) + ":" + s.backend + "/" + std::to_string(s.server_id) +
         ":" + s.server + " addr=" + s.addr + ":" + std::to_string(s.port) +
         " op=" + std::to_string(static_cast<int>(s.op_state)) +
         " admin=" + std::to_string(s.admin_state) + " uweight=" + std::to_string(s.uweight) +
         " iweight=" + std::to_string(s.iweight);
}

std::vector<std::string> DescribeAll(const std::vector<ServerState>& servers) {
  std::vector<std::string> lines;
  for (const auto& s : servers) lines.push_back(Describe(s));
  return lines;
}

struct Want {
  const char* name;  // "backend/server"
  OpState op;
  uint32_t admin;
  bool maint, drain;
  int uweight, iweight;
};

void ExpectServers(const char* fixture, const std::vector<Want>& wants) {
  const auto result = ParseServersState(ReadFixture(fixture));
  const std::vector<ServerState>& servers = ValueOf(result);
  REQUIRE(servers.size() == wants.size());
  for (size_t i = 0; i < wants.size(); ++i) {
    INFO(fixture << ": " << Describe(servers[i]));
    CHECK(servers[i].backend + "/" + servers[i].server == wants[i].name);
    CHECK(servers[i].op_state == wants[i].op);
    CHECK(servers[i].admin_state == wants[i].admin);
    CHECK(servers[i].in_maint() == wants[i].maint);
    CHECK(servers[i].in_drain() == wants[i].drain);
    CHECK(servers[i].uweight == wants[i].uweight);
    CHECK(servers[i].iweight == wants[i].iweight);
  }
}

constexpr OpState kStopped = OpState::kStopped, kRunning = OpState::kRunning,
                  kStopping = OpState::kStopping;

// ---- captured replies --------------------------------------------------

TEST_CASE("servers state, mixed: forced maint 0x01, inherited maint 0x02, forced drain 0x08",
          "[haproxy][servers_state][fixture]") {
  ExpectServers("show-servers-state-mixed.txt",
                {
                    {"replicas/a", kStopped, 0x01, true, false, 1, 1},
                    {"replicas/b", kRunning, 0x00, false, false, 1, 1},
                    {"replicas/c", kStopped, 0x00, false, false, 1, 1},
                    {"replicas/d", kStopped, 0x02, true, false, 1, 1},
                    {"replicas/f", kRunning, 0x08, false, true, 1, 1},
                    {"replicas/g", kStopped, 0x01, true, false, 1, 1},
                    {"replicas/h", kRunning, 0x00, false, false, 12, 50},
                    {"static/s1", kRunning, 0x00, false, false, 1, 1},
                });
}

TEST_CASE("servers state reads ids, address and port", "[haproxy][servers_state][fixture]") {
  const auto result = ParseServersState(ReadFixture("show-servers-state-mixed.txt"));
  const auto& servers = ValueOf(result);
  REQUIRE(servers.size() == 8);
  CHECK(Describe(servers[6]) == "2:replicas/7:h addr=127.0.0.1:25007 op=2 admin=0 uweight=12 iweight=50");
  CHECK(Describe(servers[7]) == "3:static/1:s1 addr=127.0.0.1:25001 op=2 admin=0 uweight=1 iweight=1");
}

TEST_CASE("servers state of one backend lists only its servers", "[haproxy][servers_state][fixture]") {
  const auto one = DescribeAll(ValueOf(ParseServersState(ReadFixture("show-servers-state-backend.txt"))));
  auto all = DescribeAll(ValueOf(ParseServersState(ReadFixture("show-servers-state-mixed.txt"))));
  all.pop_back();  // static/s1
  CHECK(one == all);
}

TEST_CASE("servers state, down: the drain bit survives while the server is stopped",
          "[haproxy][servers_state][fixture]") {
  // the matching show stat says only "DOWN" for f
  ExpectServers("show-servers-state-down.txt",
                {
                    {"replicas/a", kStopped, 0x00, false, false, 1, 1},
                    {"replicas/b", kRunning, 0x00, false, false, 1, 1},
                    {"replicas/c", kStopped, 0x00, false, false, 1, 1},
                    {"replicas/d", kStopped, 0x00, false, false, 1, 1},
                    {"replicas/f", kStopped, 0x08, false, true, 1, 1},
                    {"replicas/g", kStopped, 0x01, true, false, 1, 1},
                    {"replicas/h", kStopped, 0x00, false, false, 12, 50},
                });
}

TEST_CASE("servers state, going down: still running while checks fail",
          "[haproxy][servers_state][fixture]") {
  ExpectServers("show-servers-state-going-down.txt",
                {
                    {"replicas/a", kRunning, 0x00, false, false, 1, 1},
                    {"replicas/b", kRunning, 0x00, false, false, 1, 1},
                    {"replicas/c", kStopped, 0x00, false, false, 1, 1},
                    {"replicas/d", kRunning, 0x00, false, false, 1, 1},
                    {"replicas/f", kRunning, 0x08, false, true, 1, 1},
                    {"replicas/g", kStopped, 0x01, true, false, 1, 1},
                    {"replicas/h", kRunning, 0x00, false, false, 12, 50},
                });
}

TEST_CASE("servers state, check in progress: NOLB is op state 3, resolution maint is 0x20",
          "[haproxy][servers_state][fixture]") {
  ExpectServers("show-servers-state-check-in-progress.txt",
                {
                    {"db/m1", kRunning, 0x00, false, false, 1, 1},
                    {"web/w1", kStopping, 0x00, false, false, 1, 1},
                    {"agents/up1", kRunning, 0x08, false, true, 1, 1},
                    {"agents/down1", kStopped, 0x00, false, false, 1, 1},
                    {"dns/r1", kStopped, kAdminResolvMaint, true, false, 1, 1},
                });
  const auto result = ParseServersState(ReadFixture("show-servers-state-check-in-progress.txt"));
  CHECK(ValueOf(result)[4].addr == "-");  // never resolved
  CHECK(ValueOf(result)[4].port == 3306);
}

TEST_CASE("servers state, drain with sessions", "[haproxy][servers_state][fixture]") {
  ExpectServers("show-servers-state-drain-sessions.txt",
                {
                    {"replicas/db1", kRunning, 0x08, false, true, 1, 1},
                    {"replicas/db2", kRunning, 0x00, false, false, 10, 10},
                });
}

TEST_CASE("servers state of a backend without servers is an empty list",
          "[haproxy][servers_state][fixture]") {
  CHECK(ValueOf(ParseServersState(ReadFixture("show-servers-state-empty-backend.txt"))).empty());
}

TEST_CASE("servers state of an unknown backend is kNoSuchBackend", "[haproxy][servers_state]") {
  // HAProxy 2.6 answers "Can't find backend." here, not "No such backend."
  for (const std::string& reply : {ReadFixture("err-servers-state-no-such-backend.txt"),
                                   ReadFixture("err-no-such-backend.txt")}) {
    INFO(reply);
    const auto result = ParseServersState(reply);
    const Error& error = ErrorOf(result);
    CHECK(ErrorCodeName(error.code) == std::string("no_such_backend"));
    CHECK_THAT(error.message, Catch::Contains("`show backend`"));
  }
}

TEST_CASE("servers state admin bits: each mask names maint or drain", "[haproxy][servers_state]") {
  struct Row {
    uint32_t admin;
    bool maint, drain;
  };
  for (const Row& row : std::vector<Row>{{0x00, false, false}, {kAdminForcedMaint, true, false},
                                         {kAdminInheritedMaint, true, false},
                                         {kAdminConfigMaint, true, false},
                                         {kAdminForcedDrain, false, true},
                                         {kAdminInheritedDrain, false, true},
                                         {kAdminResolvMaint, true, false},
                                         {kAdminForcedMaint | kAdminForcedDrain, true, true}}) {
    ServerState state;
    state.admin_state = row.admin;
    INFO("admin " << row.admin);
    CHECK(state.in_maint() == row.maint);
    CHECK(state.in_drain() == row.drain);
  }
}

// ---- robustness to format changes ---------------------------------------

// Splits a reply into lines of space-separated words and joins it back.
using Table = std::vector<std::vector<std::string>>;

Table ToTable(const std::string& reply) {
  Table table;
  std::vector<std::string> words(1);
  for (const char c : reply) {
    if (c == '\n') {
      if (!words.back().empty() || words.size() > 1) table.push_back(words);
      words.assign(1, "");
    } else if (c == ' ') {
      words.emplace_back();
    } else {
      words.back().push_back(c);
    }
  }
  return table;
}

std::string FromTable(const Table& table) {
  std::string reply;
  for (const auto& words : table) {
    for (size_t i = 0; i < words.size(); ++i) reply += (i ? " " : "") + words[i];
    reply += "\n";
  }
  return reply + "\n";
}

TEST_CASE("servers state finds fields by name: extra, appended, reordered columns",
          "[haproxy][servers_state]") {
  const std::string original = ReadFixture("show-servers-state-mixed.txt");
  const auto expected = DescribeAll(ValueOf(ParseServersState(original)));
  Table table = ToTable(original);
  REQUIRE(table.size() == 10);  // version, header, 8 servers
  SECTION("a column inserted after be_name") {
    // the header's words start with "#", so its index is one more
    for (size_t i = 1; i < table.size(); ++i) {
      table[i].insert(table[i].begin() + (i == 1 ? 3 : 2), i == 1 ? "x" : "7");
    }
  }
  SECTION("a column appended") {
    for (size_t i = 1; i < table.size(); ++i) table[i].push_back(i == 1 ? "srv_new" : "-");
  }
  SECTION("columns in reverse order") {
    table[1].erase(table[1].begin());  // "#"
    for (size_t i = 1; i < table.size(); ++i) std::reverse(table[i].begin(), table[i].end());
    table[1].insert(table[1].begin(), "#");
  }
  SECTION("CRLF line ends") {
    for (auto& words : table) words.back() += "\r";
  }
  CHECK(DescribeAll(ValueOf(ParseServersState(FromTable(table)))) == expected);
}

TEST_CASE("servers state tolerates a missing final empty line and doubled spaces",
          "[haproxy][servers_state]") {
  const std::string original = ReadFixture("show-servers-state-mixed.txt");
  const auto expected = DescribeAll(ValueOf(ParseServersState(original)));
  std::string variant = original;
  SECTION("no final empty line") { variant.pop_back(); }
  SECTION("no final newline") { variant.resize(variant.size() - 2); }
  SECTION("doubled spaces") {
    for (size_t at = variant.find(" 127."); at != std::string::npos; at = variant.find(" 127.", at + 2)) {
      variant.insert(at, " ");
    }
  }
  SECTION("CRLF") { variant = testing::WithCrlf(original); }
  CHECK(DescribeAll(ValueOf(ParseServersState(variant))) == expected);
}

// ---- garbage -----------------------------------------------------------

TEST_CASE("servers state garbage is a kParse error that names the line",
          "[haproxy][servers_state]") {
  const std::string mixed = ReadFixture("show-servers-state-mixed.txt");
  const std::string head = mixed.substr(0, mixed.find("\n2 ") + 1);  // version + header
  struct Row {
    const char* what;
    std::string reply;
    const char* fragment;
  };
  const std::vector<Row> rows = {
      {"empty", "", "line 1: the reply is empty"},
      {"binary", std::string("\x01\x00\xfe\n\x02", 5), "line 1: expected the format version"},
      {"wrong version", "2\n" + mixed.substr(2), "line 1: expected the format version \"1\", got \"2\""},
      {"version only", "1\n\n", "line 2: no '# be_id be_name ...' header"},
      {"no header", "1\n2 replicas 1 a 127.0.0.1 0 1 1 1\n", "line 2: expected the '# be_id"},
      {"header without admin state", "1\n# be_id be_name srv_name srv_op_state\n",
       "line 2: the header has no 'srv_admin_state' column"},
      {"row cut short", mixed.substr(0, mixed.find("\n2 replicas 3 ") + 20), "line 5:"},
      {"row cut short message", head + "2 replicas 1 a\n", "line 3: 4 fields where the header has 25"},
      {"admin state not a number", head + "2 replicas 1 a 127.0.0.1 0 0x1 1 1 0 6 3 0 14 0 0 0 - 25001 - 0 0 - - 0\n",
       "line 3: column 'srv_admin_state' of replicas/a is \"0x1\", not a number"},
      {"negative admin state", head + "2 replicas 1 a 127.0.0.1 0 -1 1 1 0 6 3 0 14 0 0 0 - 25001 - 0 0 - - 0\n",
       "column 'srv_admin_state'"},
      {"port not a number", head + "2 replicas 1 a 127.0.0.1 0 0 1 1 0 6 3 0 14 0 0 0 - http - 0 0 - - 0\n",
       "column 'srv_port'"},
      {"unknown command", ReadFixture("err-unknown-command.txt"), "got \"Unknown command"},
      {"permission denied", ReadFixture("err-permission-operator.txt"), "got \"Permission denied\""},
      {"a show stat reply", ReadFixture("show-stat-mixed.csv"), "line 1:"},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    const auto result = ParseServersState(row.reply);
    const Error& error = ErrorOf(result);
    CHECK(ErrorCodeName(error.code) == std::string("parse"));
    CHECK_THAT(error.message, Catch::Contains(row.fragment));
    CHECK_THAT(error.message, Catch::StartsWith("cannot parse the `show servers state` reply: line "));
    CHECK(error.message.find('\n') == std::string::npos);
  }
}

TEST_CASE("servers state: an unknown op state number is kUnknown", "[haproxy][servers_state]") {
  const auto result = ParseServersState(
      "1\n# be_id be_name srv_id srv_name srv_op_state srv_admin_state\n1 be 1 s 9 0\n");
  REQUIRE(ValueOf(result).size() == 1);
  CHECK(ValueOf(result)[0].op_state == OpState::kUnknown);
}

TEST_CASE("servers state never crashes or throws on randomly damaged replies",
          "[haproxy][servers_state]") {
  std::mt19937 rng(20240602);
  std::vector<std::string> seeds;
  for (const char* name : {"show-servers-state-mixed.txt", "show-servers-state-check-in-progress.txt",
                           "show-servers-state-empty-backend.txt"}) {
    seeds.push_back(ReadFixture(name));
  }
  size_t values = 0, errors = 0;
  for (int i = 0; i < 4000; ++i) {
    const auto result = ParseServersState(testing::Mutate(seeds[i % seeds.size()], rng));
    if (result) {
      ++values;
      continue;
    }
    ++errors;
    const ErrorCode code = result.error().code;
    if ((code != ErrorCode::kParse && code != ErrorCode::kNoSuchBackend) ||
        result.error().message.empty()) {
      FAIL("unexpected error for a mutated reply: " << result.error().message);
    }
  }
  CHECK(values > 0);
  CHECK(errors > 0);
}

}  // namespace
}  // namespace caretaker::haproxy
