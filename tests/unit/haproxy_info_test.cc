// Tests of the `show info` parser against a reply captured from HAProxy 2.6.12.
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "haproxy/info.h"
#include "haproxy_fixture.h"

namespace caretaker::haproxy {
namespace {

using testing::ErrorOf;
using testing::ReadFixture;
using testing::ValueOf;

TEST_CASE("show info: version, pid, uptime and every line verbatim", "[haproxy][info][fixture]") {
  std::string reply = ReadFixture("show-info.txt");
  SECTION("as captured") {}
  SECTION("with CRLF line ends") { reply = testing::WithCrlf(reply); }
  SECTION("without the final empty line") { reply.pop_back(); }
  const auto result = ParseShowInfo(reply);
  const Info& info = ValueOf(result);
  CHECK(info.version == "2.6.12-1+deb12u4");
  CHECK(info.pid == 17581);
  CHECK(info.uptime_s == 3);
  CHECK(info.fields.size() == 69);  // one per line
  // given "Name: value" lines / expect the value after ": ", spaces inside kept
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"Name", "HAProxy"},
      {"Nbthread", "2"},
      {"Uptime", "0d 0h00m03s"},
      {"Unstoppable Jobs", "0"},
      {"Build info", "2.6.12-1+deb12u4"},
      {"Release_date", "2026/10/17"},
      {"node", "vm"},
      {"Tainted", "0"},
  };
  for (const auto& [name, value] : rows) {
    INFO(name);
    const auto it = info.fields.find(name);
    REQUIRE(it != info.fields.end());
    CHECK(it->second == value);
  }
}

TEST_CASE("show info: a value may hold colons, absent Pid and Uptime_sec stay 0",
          "[haproxy][info]") {
  const auto result = ParseShowInfo("Version: 9.9\nDescription: a: b: c\n\n");
  const Info& info = ValueOf(result);
  CHECK(info.version == "9.9");
  CHECK(info.fields.at("Description") == "a: b: c");
  CHECK(info.pid == 0);
  CHECK(info.uptime_s == 0);
}

TEST_CASE("show info garbage is a kParse error that names the line", "[haproxy][info]") {
  struct Row {
    const char* what;
    std::string reply;
    const char* fragment;
  };
  const std::vector<Row> rows = {
      {"empty", "", "line 1: the reply is empty"},
      {"blank", " \r\n\n", "line 1: the reply is empty"},
      {"binary", std::string("\x00\xff\x01", 3), "line 1: expected 'Name: value', got \"???\""},
      {"permission denied", ReadFixture("err-permission-operator.txt"),
       "line 1: expected 'Name: value', got \"Permission denied\""},
      {"unknown command", ReadFixture("err-unknown-command.txt"), "no 'Version:' line"},
      {"a show stat reply", ReadFixture("show-stat-mixed.csv"), "line 1: expected 'Name: value'"},
      {"line without a name", "Version: 2.6\n: orphan\n", "line 2: expected 'Name: value'"},
      {"empty version", "Version:\nPid: 1\n", "no 'Version:' line"},
      {"pid not a number", "Name: HAProxy\nVersion: 2.6\nPid: 12x\n", "line 3: 'Pid' is \"12x\", not a number"},
      {"uptime not a number", "Version: 2.6\nUptime_sec: -\n", "line 2: 'Uptime_sec' is \"-\""},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    const auto result = ParseShowInfo(row.reply);
    const Error& error = ErrorOf(result);
    CHECK(ErrorCodeName(error.code) == std::string("parse"));
    CHECK_THAT(error.message, Catch::Contains(row.fragment));
    CHECK_THAT(error.message, Catch::StartsWith("cannot parse the `show info` reply: line "));
  }
}

TEST_CASE("show info never crashes or throws on randomly damaged replies", "[haproxy][info]") {
  std::mt19937 rng(20240603);
  const std::string seed = ReadFixture("show-info.txt");
  size_t values = 0, errors = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto result = ParseShowInfo(testing::Mutate(seed, rng));
    if (result) {
      ++values;
    } else if (result.error().code == ErrorCode::kParse && !result.error().message.empty()) {
      ++errors;
    } else {
      FAIL("unexpected error for a mutated reply: " << result.error().message);
    }
  }
  CHECK(values > 0);
  CHECK(errors > 0);
}

}  // namespace
}  // namespace caretaker::haproxy
