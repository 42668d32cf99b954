// Tests of the `show stat` parser against replies captured from HAProxy 2.6.12
// (tests/fixtures/haproxy/README.md says how each was produced).
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "haproxy/stat.h"
#include "haproxy_fixture.h"

namespace caretaker::haproxy {
namespace {

using testing::ErrorOf;
using testing::ReadFixture;
using testing::ValueOf;
using Word = StatusField::Word;

// ---- helpers -----------------------------------------------------------

// Every field of a parsed server on one line, to compare whole replies.
std::string Describe(const ServerStat& s) {
  return s.backend + "/" + s.server + " status='" + s.status.raw + "' " +
         StatusWordName(s.status.word) + " " + std::to_string(s.status.transition_step) + "/" +
         std::to_string(s.status.transition_of) + " via=" + s.status.via +
         " scur=" + std::to_string(s.scur) + " smax=" + std::to_string(s.smax) +
         " stot=" + std::to_string(s.stot) + " weight=" + std::to_string(s.weight) +
         " uweight=" + std::to_string(s.uweight) + " check=" + s.check_status +
         (s.check_in_progress ? "(running)" : "") + " desc=" + s.check_desc + " addr=" + s.addr +
         " tracked=" + s.tracked + " lastchg=" + std::to_string(s.lastchg_s);
}

std::vector<std::string> DescribeAll(const std::vector<ServerStat>& servers) {
  std::vector<std::string> lines;
  for (const auto& s : servers) lines.push_back(Describe(s));
  return lines;
}

// Splits a fixture into lines of comma-separated fields (fixtures hold no
// quoted fields) and joins it back, so tests can edit columns.
using Table = std::vector<std::vector<std::string>>;

Table ToTable(const std::string& reply) {
  Table table;
  std::string line;
  for (const char c : reply) {
    if (c != '\n') {
      line.push_back(c);
      continue;
    }
    std::vector<std::string> fields(1);
    for (const char f : line) {
      if (f == ',') fields.emplace_back(); else fields.back().push_back(f);
    }
    if (!line.empty()) table.push_back(fields);
    line.clear();
  }
  return table;
}

std::string FromTable(const Table& table) {
  std::string reply;
  for (const auto& fields : table) {
    for (size_t i = 0; i < fields.size(); ++i) reply += (i ? "," : "") + fields[i];
    reply += "\n";
  }
  return reply + "\n";
}

// ---- expectations per fixture ------------------------------------------

struct Want {
  const char* name;          // "backend/server"
  const char* status;        // the raw column
  Word word;
  int step, of;              // "UP 1/2" -> 1, 2
  const char* via;
  int64_t scur;
  int weight, uweight;
  const char* check_status;  // without "* "
  bool in_progress;
  const char* tracked;
};

void ExpectServers(const char* fixture, const std::vector<Want>& wants) {
  const auto result = ParseShowStat(ReadFixture(fixture));
  const std::vector<ServerStat>& servers = ValueOf(result);
  REQUIRE(servers.size() == wants.size());
  for (size_t i = 0; i < wants.size(); ++i) {
    const ServerStat& got = servers[i];
    const Want& want = wants[i];
    INFO(fixture << ": " << Describe(got));
    CHECK(got.backend + "/" + got.server == want.name);
    CHECK(got.status.raw == want.status);
    CHECK(StatusWordName(got.status.word) == std::string(StatusWordName(want.word)));
    CHECK(got.status.transition_step == want.step);
    CHECK(got.status.transition_of == want.of);
    CHECK(got.status.via == want.via);
    CHECK(got.scur == want.scur);
    CHECK(got.weight == want.weight);
    CHECK(got.uweight == want.uweight);
    CHECK(got.check_status == want.check_status);
    CHECK(got.check_in_progress == want.in_progress);
    CHECK(got.tracked == want.tracked);
  }
}

constexpr Word kUp = Word::kUp, kDown = Word::kDown, kDrain = Word::kDrain,
               kMaint = Word::kMaint, kNolb = Word::kNolb, kNoCheck = Word::kNoCheck;

// ---- the status column -------------------------------------------------

TEST_CASE("every status form HAProxy 2.6 writes is read into word, counters and via",
          "[haproxy][stat]") {
  struct Row {
    const char* raw;
    Word word;
    int step, of;
    const char* via;
  };
  // given the literal status column / expect the parsed field
  const std::vector<Row> rows = {
      {"UP", kUp, 0, 0, ""},
      {"DOWN", kDown, 0, 0, ""},
      {"DRAIN", kDrain, 0, 0, ""},
      {"MAINT", kMaint, 0, 0, ""},
      {"NOLB", kNolb, 0, 0, ""},
      {"no check", kNoCheck, 0, 0, ""},
      {"UP 1/3", kUp, 1, 3, ""},
      {"UP 2/3", kUp, 2, 3, ""},
      {"DOWN 1/2", kDown, 1, 2, ""},
      {"DOWN 2/3", kDown, 2, 3, ""},
      {"DRAIN 1/2", kDrain, 1, 2, ""},
      {"NOLB 2/3", kNolb, 2, 3, ""},
      {"MAINT (via replicas/a)", kMaint, 0, 0, "replicas/a"},
      {"MAINT (via be-1/srv.2)", kMaint, 0, 0, "be-1/srv.2"},
      {"MAINT (resolution)", kMaint, 0, 0, ""},
      {"DOWN (agent)", kDown, 0, 0, ""},
      {"DRAIN (agent)", kDrain, 0, 0, ""},
      {" UP ", kUp, 0, 0, ""},
  };
  for (const Row& row : rows) {
    INFO("status '" << row.raw << "'");
    const StatusField field = ParseStatusField(row.raw);
    CHECK(StatusWordName(field.word) == std::string(StatusWordName(row.word)));
    CHECK(field.transition_step == row.step);
    CHECK(field.transition_of == row.of);
    CHECK(field.via == row.via);
    CHECK(field.raw == row.raw);
  }
}

TEST_CASE("an unknown status is kUnknown and keeps the raw text", "[haproxy][stat]") {
  for (const char* raw : {"", "OPEN", "up", "Up", "UP 1/", "UP /3", "UP x/3", "UP 1/0",
                          "UP 1/3 more", "UP (via a/b)", "MAINT 1/2", "MAINT (via )",
                          "MAINT (via x)", "MAINT(via a/b)", "NOLB (agent)", "DOWN (other)",
                          "no", "no check at all", "STOPPED", "\xff\xfe"}) {
    INFO("status '" << raw << "'");
    const StatusField field = ParseStatusField(raw);
    CHECK(field.word == Word::kUnknown);
    CHECK(field.raw == raw);
    CHECK(field.transition_step == 0);
    CHECK(field.transition_of == 0);
    CHECK(field.via.empty());
  }
}

TEST_CASE("StatusWordName names every word", "[haproxy][stat]") {
  CHECK(StatusWordName(kUp) == std::string("UP"));
  CHECK(StatusWordName(kDown) == std::string("DOWN"));
  CHECK(StatusWordName(kDrain) == std::string("DRAIN"));
  CHECK(StatusWordName(kMaint) == std::string("MAINT"));
  CHECK(StatusWordName(kNolb) == std::string("NOLB"));
  CHECK(StatusWordName(kNoCheck) == std::string("no check"));
  CHECK(StatusWordName(Word::kUnknown) == std::string("unknown"));
}

// ---- captured replies --------------------------------------------------

TEST_CASE("show stat, mixed: maint, inherited maint, drain, down, no check, weight 12/50",
          "[haproxy][stat][fixture]") {
  // given a maint (so d, tracking a, is "MAINT (via replicas/a)"), f drained,
  // g maint, h at 25% of weight 50, c pointing at a closed port, b unchecked
  ExpectServers("show-stat-mixed.csv",
                {
                    {"replicas/a", "MAINT", kMaint, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/b", "no check", kNoCheck, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/c", "DOWN", kDown, 0, 0, "", 0, 1, 1, "L4CON", false, ""},
                    {"replicas/d", "MAINT (via replicas/a)", kMaint, 0, 0, "replicas/a", 0, 1, 1,
                     "", false, "replicas/a"},
                    {"replicas/f", "DRAIN", kDrain, 0, 0, "", 0, 1, 1, "L4OK", false, ""},
                    {"replicas/g", "MAINT", kMaint, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/h", "UP", kUp, 0, 0, "", 0, 12, 12, "L4OK", false, ""},
                    {"static/s1", "UP", kUp, 0, 0, "", 0, 1, 1, "L4OK", false, ""},
                });
}

TEST_CASE("show stat, rising: a server leaving MAINT is UP at once", "[haproxy][stat][fixture]") {
  ExpectServers("show-stat-rising.csv",
                {
                    {"replicas/a", "UP", kUp, 0, 0, "", 0, 1, 1, "L4OK", false, ""},
                    {"replicas/b", "no check", kNoCheck, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/c", "DOWN", kDown, 0, 0, "", 0, 1, 1, "L4CON", false, ""},
                    {"replicas/d", "UP", kUp, 0, 0, "", 0, 1, 1, "", false, "replicas/a"},
                    {"replicas/f", "DRAIN", kDrain, 0, 0, "", 0, 1, 1, "L4OK", false, ""},
                    {"replicas/g", "MAINT", kMaint, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/h", "UP", kUp, 0, 0, "", 0, 12, 12, "L4OK", false, ""},
                    {"static/s1", "UP", kUp, 0, 0, "", 0, 1, 1, "L4OK", false, ""},
                });
}

TEST_CASE("show stat, going down: UP 1/2, DRAIN 1/2, UP 2/3 with weight 0",
          "[haproxy][stat][fixture]") {
  ExpectServers("show-stat-going-down.csv",
                {
                    {"replicas/a", "UP", kUp, 0, 0, "", 0, 1, 1, "L4OK", false, ""},
                    {"replicas/b", "no check", kNoCheck, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/c", "DOWN", kDown, 0, 0, "", 0, 1, 1, "L4CON", false, ""},
                    {"replicas/d", "UP", kUp, 0, 0, "", 0, 1, 1, "", false, "replicas/a"},
                    {"replicas/f", "DRAIN 1/2", kDrain, 1, 2, "", 0, 1, 1, "L4CON", false, ""},
                    {"replicas/g", "MAINT", kMaint, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/h", "UP 1/2", kUp, 1, 2, "", 0, 12, 12, "L4CON", false, ""},
                    {"static/s1", "UP 2/3", kUp, 2, 3, "", 0, 0, 0, "L4CON", false, ""},
                });
}

TEST_CASE("show stat, down: a drained server whose checks fail shows only DOWN",
          "[haproxy][stat][fixture]") {
  ExpectServers("show-stat-down.csv",
                {
                    {"replicas/a", "DOWN", kDown, 0, 0, "", 0, 1, 1, "L4CON", false, ""},
                    {"replicas/b", "no check", kNoCheck, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/c", "DOWN", kDown, 0, 0, "", 0, 1, 1, "L4CON", false, ""},
                    {"replicas/d", "DOWN", kDown, 0, 0, "", 0, 1, 1, "", false, "replicas/a"},
                    {"replicas/f", "DOWN", kDown, 0, 0, "", 0, 1, 1, "L4CON", false, ""},
                    {"replicas/g", "MAINT", kMaint, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/h", "DOWN", kDown, 0, 0, "", 0, 12, 12, "L4CON", false, ""},
                    {"static/s1", "DOWN", kDown, 0, 0, "", 0, 0, 0, "L4CON", false, ""},
                });
}

TEST_CASE("show stat, coming up: DOWN 1/3 and DOWN 2/3", "[haproxy][stat][fixture]") {
  ExpectServers("show-stat-coming-up.csv",
                {
                    {"replicas/a", "DOWN 2/3", kDown, 2, 3, "", 0, 1, 1, "L4OK", false, ""},
                    {"replicas/b", "no check", kNoCheck, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/c", "DOWN", kDown, 0, 0, "", 0, 1, 1, "L4CON", false, ""},
                    {"replicas/d", "DOWN 2/3", kDown, 2, 3, "", 0, 1, 1, "", false, "replicas/a"},
                    {"replicas/f", "DOWN 1/3", kDown, 1, 3, "", 0, 1, 1, "L4OK", false, ""},
                    {"replicas/g", "MAINT", kMaint, 0, 0, "", 0, 1, 1, "", false, ""},
                    {"replicas/h", "DOWN 1/3", kDown, 1, 3, "", 0, 12, 12, "L4OK", false, ""},
                    {"static/s1", "UP", kUp, 0, 0, "", 0, 0, 0, "L4OK", false, ""},
                });
}

TEST_CASE("show stat, check in progress: '* L7OK', NOLB, agent states, MAINT (resolution)",
          "[haproxy][stat][fixture]") {
  // given m1's mariadbd stopped mid-check, w1 answering 404 to its httpchk,
  // up1 drained over the CLI with an agent, down1's agent saying "down", r1 a
  // name that never resolves, and a backend "empty" without servers
  ExpectServers("show-stat-check-in-progress.csv",
                {
                    {"db/m1", "UP", kUp, 0, 0, "", 0, 1, 1, "L7OK", true, ""},
                    {"web/w1", "NOLB", kNolb, 0, 0, "", 0, 1, 1, "L7OKC", false, ""},
                    {"agents/up1", "DRAIN (agent)", kDrain, 0, 0, "", 0, 1, 1, "L4OK", false, ""},
                    {"agents/down1", "DOWN (agent)", kDown, 0, 0, "", 0, 1, 1, "L4OK", false, ""},
                    {"dns/r1", "MAINT (resolution)", kMaint, 0, 0, "", 0, 1, 1, "", false, ""},
                });
}

TEST_CASE("show stat, drain with sessions: a drained server keeps its weight and scur",
          "[haproxy][stat][fixture]") {
  ExpectServers("show-stat-drain-sessions.csv",
                {
                    {"replicas/db1", "DRAIN", kDrain, 0, 0, "", 1, 1, 1, "L7OK", false, ""},
                    {"replicas/db2", "UP", kUp, 0, 0, "", 4, 10, 10, "L7OK", false, ""},
                });
}

TEST_CASE("show stat reads smax, stot, check_desc, addr and lastchg", "[haproxy][stat][fixture]") {
  const auto result = ParseShowStat(ReadFixture("show-stat-drain-sessions.csv"));
  const auto& servers = ValueOf(result);
  REQUIRE(servers.size() == 2);
  CHECK(servers[1].smax == 4);
  CHECK(servers[1].stot == 4);
  CHECK(servers[1].check_desc == "Layer7 check passed");
  CHECK(servers[1].addr == "127.0.0.1:27306");
  CHECK(servers[1].lastchg_s == 5);
}

TEST_CASE("show stat filtered to servers: one row, or only the header for an empty backend",
          "[haproxy][stat][fixture]") {
  ExpectServers("show-stat-servers-only.csv",
                {{"replicas/db1", "no check", kNoCheck, 0, 0, "", 0, 1, 1, "", false, ""}});
  // HAProxy answers a bare header to `show stat <backend without servers> 4 -1`.
  CHECK(ValueOf(ParseShowStat(ReadFixture("show-stat-servers-of-empty-backend.csv"))).empty());
}

// ---- robustness to format changes ---------------------------------------

TEST_CASE("show stat finds columns by name: inserted, appended and reordered columns",
          "[haproxy][stat]") {
  const std::string original = ReadFixture("show-stat-mixed.csv");
  const auto expected = DescribeAll(ValueOf(ParseShowStat(original)));
  Table table = ToTable(original);
  REQUIRE(table.size() == 12);

  SECTION("a new column inserted before scur") {
    for (auto& row : table) row.insert(row.begin() + 4, row[0].starts_with("#") ? "new" : "7");
  }
  SECTION("a new column appended after the trailing comma") {
    for (auto& row : table) row.push_back(row[0].starts_with("#") ? "newer" : "x,y");
  }
  SECTION("columns in reverse order") {
    for (auto& row : table) {
      if (row[0].starts_with("# ")) row[0] = row[0].substr(2);
      row.pop_back();  // the empty field after the trailing comma
      std::reverse(row.begin(), row.end());
    }
    table[0][0] = "# " + table[0][0];
  }
  SECTION("no trailing comma") {
    for (auto& row : table) row.pop_back();
  }
  CHECK(DescribeAll(ValueOf(ParseShowStat(FromTable(table)))) == expected);
}

TEST_CASE("show stat without a type column tells servers by svname", "[haproxy][stat]") {
  const std::string original = ReadFixture("show-stat-mixed.csv");
  const auto expected = DescribeAll(ValueOf(ParseShowStat(original)));
  Table table = ToTable(original);
  const auto type = std::find(table[0].begin(), table[0].end(), "type") - table[0].begin();
  REQUIRE(type < static_cast<long>(table[0].size()));
  for (auto& row : table) row.erase(row.begin() + type);
  CHECK(DescribeAll(ValueOf(ParseShowStat(FromTable(table)))) == expected);
}

TEST_CASE("show stat line ends: CRLF, no final empty line, no final newline", "[haproxy][stat]") {
  const std::string original = ReadFixture("show-stat-check-in-progress.csv");
  const auto expected = DescribeAll(ValueOf(ParseShowStat(original)));
  std::string variant = original;
  SECTION("CRLF") { variant = testing::WithCrlf(original); }
  SECTION("without the final empty line") { variant.pop_back(); }
  SECTION("without any final newline") { variant.resize(variant.size() - 2); }
  SECTION("blank lines between rows") {
    variant.insert(variant.find("\nweb,") + 1, "\n \n");
  }
  CHECK(DescribeAll(ValueOf(ParseShowStat(variant))) == expected);
}

TEST_CASE("show stat reads quoted fields holding commas and quotes", "[haproxy][stat]") {
  const std::string reply =
      "# pxname,svname,status,check_desc,type,\n"
      "be,s1,UP,\"says \"\"hi\"\", then, bye\",2,\n"
      "be,\"s,2\",\"DOWN 1/2\",,2,\n\n";
  const auto result = ParseShowStat(reply);
  const auto& servers = ValueOf(result);
  REQUIRE(servers.size() == 2);
  CHECK(servers[0].check_desc == "says \"hi\", then, bye");
  CHECK(servers[1].server == "s,2");
  CHECK(servers[1].status.transition_step == 1);
}

TEST_CASE("show stat empty numeric fields and absent columns read as defaults",
          "[haproxy][stat]") {
  const auto result = ParseShowStat("# pxname,svname,status,scur,weight\nbe,s1,UP,,\n");
  const auto& servers = ValueOf(result);
  REQUIRE(servers.size() == 1);
  CHECK(servers[0].scur == 0);
  CHECK(servers[0].weight == 0);
  CHECK(servers[0].uweight == -1);
  CHECK(servers[0].lastchg_s == -1);
  CHECK(servers[0].check_status.empty());
  CHECK_FALSE(servers[0].check_in_progress);
}

// ---- garbage -----------------------------------------------------------

TEST_CASE("show stat garbage is a kParse error that names the line", "[haproxy][stat]") {
  const std::string mixed = ReadFixture("show-stat-mixed.csv");
  const std::string header = mixed.substr(0, mixed.find('\n') + 1);
  struct Row {
    const char* what;
    std::string reply;
    const char* fragment;  // expected in the message
  };
  // given a reply / expect kParse and a message with this fragment
  const std::vector<Row> rows = {
      {"empty", "", "line 1: the reply is empty"},
      {"only newlines", "\n\r\n\n", "line 1: the reply is empty"},
      {"binary", std::string("\x00\x01\xff\xfe,,\n\x7f", 8), "line 1: expected the '# pxname"},
      {"unknown command", ReadFixture("err-unknown-command.txt"),
       "line 1: expected the '# pxname,svname,...' header, got \"Unknown command"},
      {"no such proxy", ReadFixture("err-show-stat-no-such-proxy.txt"), "\"No such proxy.\""},
      {"permission denied", ReadFixture("err-permission-operator.txt"), "line 1:"},
      {"header cut short", "# pxname,svn\n", "line 1: the header has no 'svname' column"},
      {"header without status", "# pxname,svname,scur\nbe,s,0\n", "no 'status' column"},
      {"row cut short", mixed.substr(0, mixed.find("\nreplicas,c,") + 30), "line 4:"},
      {"row cut short message", header + "replicas,a,0,0,0\n", "the row is truncated"},
      {"scur not a number", header + "replicas,a,0,0,x1" + mixed.substr(mixed.find(",0,,0,0,0,,0,")),
       "line 2: column 'scur' of replicas/a is \"x1\", not a number"},
      {"weight out of range", "# pxname,svname,status,weight\nbe,s,UP,99999999999\n",
       "column 'weight' of be/s is \"99999999999\""},
      {"type not a number", "# pxname,svname,status,type\nbe,s,UP,two\n", "column 'type'"},
      {"unterminated quote", "# pxname,svname,status\nbe,\"s,UP\n", "line 2: unterminated quote"},
      {"server without name", "# pxname,svname,status,type\nbe,,UP,2\n", "line 2:"},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    const auto result = ParseShowStat(row.reply);
    const Error& error = ErrorOf(result);
    CHECK(ErrorCodeName(error.code) == std::string("parse"));
    CHECK_THAT(error.message, Catch::Contains(row.fragment));
    CHECK_THAT(error.message, Catch::StartsWith("cannot parse the `show stat` reply: line "));
    CHECK(error.message.find('\n') == std::string::npos);
  }
}

TEST_CASE("show stat never crashes or throws on randomly damaged replies", "[haproxy][stat]") {
  // given real replies with random edits / expect a value or a kParse error
  std::mt19937 rng(20240601);
  std::vector<std::string> seeds;
  for (const char* name : {"show-stat-mixed.csv", "show-stat-going-down.csv",
                           "show-stat-check-in-progress.csv", "show-stat-drain-sessions.csv"}) {
    seeds.push_back(ReadFixture(name));
  }
  size_t values = 0, errors = 0;
  for (int i = 0; i < 4000; ++i) {
    const std::string reply = testing::Mutate(seeds[i % seeds.size()], rng);
    const auto result = ParseShowStat(reply);
    if (result) {
      ++values;
      continue;
    }
    ++errors;
    if (result.error().code != ErrorCode::kParse || result.error().message.empty()) {
      FAIL("unexpected error for a mutated reply: " << result.error().message);
    }
  }
  CHECK(values > 0);  // some edits only touch columns the parser ignores
  CHECK(errors > 0);
}

}  // namespace
}  // namespace caretaker::haproxy
