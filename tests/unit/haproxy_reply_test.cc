// Tests of the mapping from HAProxy's plain-text replies to typed errors, with
// the replies captured from HAProxy 2.6.12, and of the shared text helpers.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "haproxy/reply.h"
#include "haproxy_fixture.h"

namespace caretaker::haproxy {
namespace {

using testing::ReadFixture;

constexpr std::string_view kWhere = "lb1 (unix:/run/haproxy/oper.sock)";
constexpr std::string_view kCommand = "set server replicas/a state drain";

TEST_CASE("an empty or blank reply is a success", "[haproxy][reply]") {
  // HAProxy answers a bare "\n" to a successful `set server` (ok-set-state.txt)
  // and to `weight 50%` on a `balance source` backend (err-static-weight.txt).
  for (const std::string& reply : {ReadFixture("ok-set-state.txt"),
                                   ReadFixture("err-static-weight.txt"), std::string(),
                                   std::string(" \r\n\t\n")}) {
    CHECK_FALSE(ClassifyReply(kWhere, kCommand, reply).has_value());
  }
}

TEST_CASE("each HAProxy error reply maps to its code and an actionable message",
          "[haproxy][reply][fixture]") {
  struct Row {
    const char* fixture;
    ErrorCode code;
    const char* what;    // after "haproxy <where>: "
    const char* advice;  // after " — "
  };
  // given a captured reply / expect this code and these message parts
  const std::vector<Row> rows = {
      {"err-no-such-backend.txt", ErrorCode::kNoSuchBackend, "no such backend",
       "check the backend name against `show backend`"},
      {"err-servers-state-no-such-backend.txt", ErrorCode::kNoSuchBackend, "no such backend",
       "check the backend name"},
      {"err-show-stat-no-such-proxy.txt", ErrorCode::kNoSuchBackend, "no such backend",
       "check the backend name"},
      {"err-no-such-server.txt", ErrorCode::kNoSuchServer, "no such server",
       "check the server name against `show servers state <backend>`"},
      {"err-permission-operator.txt", ErrorCode::kPermissionDenied, "permission denied",
       "the stats socket needs 'level admin'"},
      {"err-unknown-command.txt", ErrorCode::kUnknownCommand, "unknown command",
       "this HAProxy does not know the command"},
      {"err-require-backend-server.txt", ErrorCode::kRejected,
       "error \"Require 'backend/server'.\"", "HAProxy rejected the command; check its arguments"},
      {"err-bad-state.txt", ErrorCode::kRejected,
       "error \"'set server <srv> state' expects 'ready', 'drain' and 'maint'.\"",
       "check its arguments"},
      {"err-static-algorithm.txt", ErrorCode::kStaticAlgorithm, "static balance algorithm",
       "a weight ramp needs roundrobin, leastconn or hash-type consistent"},
      {"err-weight-range.txt", ErrorCode::kRejected,
       "error \"Absolute weight can only be between 0 and 256 inclusive.\"", "check its arguments"},
  };
  for (const Row& row : rows) {
    INFO(row.fixture);
    const auto error = ClassifyReply(kWhere, kCommand, ReadFixture(row.fixture));
    REQUIRE(error.has_value());
    CHECK(ErrorCodeName(error->code) == std::string(ErrorCodeName(row.code)));
    const std::string start = "haproxy " + std::string(kWhere) + ": " + row.what + " for '" +
                              std::string(kCommand) + "' — ";
    CHECK_THAT(error->message, Catch::StartsWith(start));
    CHECK_THAT(error->message, Catch::Contains(row.advice));
    CHECK(error->message.find('\n') == std::string::npos);  // one line, first reply line only
  }
}

TEST_CASE("the permission message is the one in reply.h", "[haproxy][reply][fixture]") {
  const auto error = ClassifyReply(kWhere, kCommand, ReadFixture("err-permission-operator.txt"));
  REQUIRE(error.has_value());
  CHECK(error->message ==
        "haproxy lb1 (unix:/run/haproxy/oper.sock): permission denied for 'set server "
        "replicas/a state drain' — the stats socket needs 'level admin' in haproxy.cfg");
}

TEST_CASE("any other text reply is kRejected quoting its first line",
          "[haproxy][reply]") {
  struct Row {
    std::string reply;
    const char* quoted;
  };
  const std::vector<Row> rows = {
      {"Something new.\nsecond line\n\n", "\"Something new.\""},
      {"\r\n  padded \r\n", "\"padded\""},
      {std::string(200, 'x'), "\"xxxxxxxx"},
  };
  for (const Row& row : rows) {
    const auto error = ClassifyReply(kWhere, kCommand, row.reply);
    REQUIRE(error.has_value());
    CHECK(error->code == ErrorCode::kRejected);
    CHECK_THAT(error->message, Catch::Contains(std::string("error ") + row.quoted));
    CHECK(error->message.size() < 300);
  }
}

TEST_CASE("the message trims the command and names an unnamed instance", "[haproxy][reply]") {
  const auto error = ClassifyReply("", "set server be/s state maint\n", "No such server.\n");
  REQUIRE(error.has_value());
  CHECK(error->message ==
        "haproxy (unnamed instance): no such server for 'set server be/s state maint' — check "
        "the server name against `show servers state <backend>` on this instance");
}

TEST_CASE("ErrorCodeName gives every code a distinct snake_case name", "[haproxy][reply]") {
  const std::vector<std::pair<ErrorCode, std::string>> rows = {
      {ErrorCode::kConnect, "connect"},
      {ErrorCode::kTimeout, "timeout"},
      {ErrorCode::kIo, "io"},
      {ErrorCode::kNoSuchBackend, "no_such_backend"},
      {ErrorCode::kNoSuchServer, "no_such_server"},
      {ErrorCode::kPermissionDenied, "permission_denied"},
      {ErrorCode::kUnknownCommand, "unknown_command"},
      {ErrorCode::kRejected, "rejected"},
      {ErrorCode::kParse, "parse"},
      {ErrorCode::kNotConfirmed, "not_confirmed"},
      {ErrorCode::kBadEndpoint, "bad_endpoint"},
  };
  std::set<std::string> names;
  for (const auto& [code, name] : rows) {
    CHECK(ErrorCodeName(code) == name);
    names.insert(ErrorCodeName(code));
  }
  CHECK(names.size() == rows.size());
}

TEST_CASE("ReplyLines strips line ends and the trailing empty lines only", "[haproxy][reply]") {
  using Lines = std::vector<std::string_view>;
  CHECK(ReplyLines("") == Lines{});
  CHECK(ReplyLines("\n") == Lines{});
  CHECK(ReplyLines("a\n\n") == Lines{"a"});
  CHECK(ReplyLines("a\r\nb\r\n\r\n") == Lines{"a", "b"});
  CHECK(ReplyLines("a\n\nb") == Lines{"a", "", "b"});
  CHECK(ReplyLines("\na") == Lines{"", "a"});
  CHECK(ReplyLines("a \n \n") == Lines{"a "});
}

TEST_CASE("QuoteReplyText quotes, masks and cuts", "[haproxy][reply]") {
  CHECK(QuoteReplyText("No such server.") == "\"No such server.\"");
  CHECK(QuoteReplyText(std::string("a\tb\x80", 4)) == "\"a?b?\"");
  CHECK(QuoteReplyText(std::string(81, 'y')) == "\"" + std::string(80, 'y') + "...\"");
}

TEST_CASE("a socket that is not the runtime API is named as such", "[reply]") {
  auto http = ClassifyReply("lb1 (tcp:10.0.0.2:8404)", "show stat -1 4 -1", "HTTP/1.1 400 Bad Request\r\n\r\n");
  REQUIRE(http);
  CHECK(http->code == ErrorCode::kIo);
  CHECK_THAT(http->message, Catch::Contains("this is an HTTP port") && Catch::Contains("level admin"));
  auto mysql = ClassifyReply("lb1 (tcp:10.0.0.2:3306)", "show stat -1 4 -1", std::string("h\0\0\0\x0a""5.5.5", 10));
  REQUIRE(mysql);
  CHECK(mysql->code == ErrorCode::kIo);
  CHECK_THAT(mysql->message, Catch::Contains("not HAProxy's runtime API (a MySQL port?)"));
  auto binary = ClassifyReply("lb1", "show info", std::string("bin\x01\xff\n", 6));
  REQUIRE(binary);
  CHECK_THAT(binary->message, Catch::Contains("a binary reply \"bin??\""));  // control bytes masked
}

}  // namespace
}  // namespace caretaker::haproxy
