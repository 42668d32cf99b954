// Connector/C failures become typed errors whose one sentence names the
// server and says what to do. The texts are the real ones of MariaDB 10.11
// and Connector/C 3.3.
#include <catch2/catch.hpp>
#include <string>

#include "mysql/error.h"

namespace caretaker::mysql {
namespace {

struct Case {
  unsigned int errno_;
  const char* text;
  ErrorCode code;
  const char* must_mention;
};

TEST_CASE("Connector/C errors map to codes with a sentence naming host:port", "[mysql]") {
  const Case cases[] = {
      {1045, "Access denied for user 'caretaker'@'127.0.0.1' (using password: YES)", ErrorCode::kAccessDenied,
       "password"},
      {1227, "Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation",
       ErrorCode::kMissingPrivilege, "REPLICA MONITOR (SLAVE MONITOR) is needed"},
      {1142, "SELECT command denied to user 'x'@'127.0.0.1' for table `caretaker`.`heartbeat`",
       ErrorCode::kMissingPrivilege, "GRANT SELECT on it to user caretaker"},
      {2002, "Can't connect to server on '127.0.0.1' (115)", ErrorCode::kConnect, "unreachable"},
      {2005, "Unknown server host 'no.such.host.invalid' (-2)", ErrorCode::kConnect, "unreachable"},
      {2013, "Lost connection to server at 'handshake: reading initial communication packet', system error: 110",
       ErrorCode::kTimeout, "timed out"},
      {2002, "Can't connect to server on '10.0.0.1' (110)", ErrorCode::kTimeout, "timed out"},
      {2013, "Lost connection to server during query", ErrorCode::kConnect, "connection lost"},
      {2026, "SSL connection error: certificate verify failed", ErrorCode::kTls, "CA file"},
      {2026, "TLS/SSL error: SSL is required, but the server does not support it", ErrorCode::kTls,
       "configure TLS on the server"},
      {1146, "Table 'caretaker.heartbeat' doesn't exist", ErrorCode::kQuery, "error 1146"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.errno_, c.text);
    Error e = ClassifyClientError("db1.example:3306", "caretaker", "running SHOW SLAVE STATUS", c.errno_, c.text);
    CHECK(e.code == c.code);
    CHECK(e.errno_ == c.errno_);
    CHECK(e.message.find("MySQL db1.example:3306: running SHOW SLAVE STATUS failed") == 0);
    CHECK(e.message.find(c.must_mention) != std::string::npos);
  }
}

TEST_CASE("ECONNREFUSED (111) is not mistaken for a timeout", "[mysql]") {
  Error e = ClassifyClientError("h:1", "caretaker", "connecting", 2013, "Lost connection ... system error: 111");
  CHECK(e.code == ErrorCode::kConnect);
}

TEST_CASE("a read timeout names the statement and the timeout", "[mysql]") {
  Error e = ReadTimedOut("h:1", "running SELECT 1", 2013, std::chrono::seconds(10));
  CHECK(e.code == ErrorCode::kTimeout);
  CHECK(e.message ==
        "MySQL h:1: running SELECT 1 failed: no reply within 10s (the read timeout) — is the server "
        "overloaded or hung?");
}

TEST_CASE("the needed privilege is named for a person", "[mysql]") {
  CHECK(NeededPrivilege("Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this "
                        "operation") == "REPLICA MONITOR (SLAVE MONITOR)");
  CHECK(NeededPrivilege("Access denied; you need (at least one of) the REPLICATION CLIENT privilege(s) for this "
                        "operation") == "REPLICA MONITOR (SLAVE MONITOR)");
  CHECK(NeededPrivilege("Access denied; you need (at least one of) the PROCESS privilege(s) for this operation") ==
        "PROCESS");
}

TEST_CASE("error codes have stable names", "[mysql]") {
  CHECK(std::string(ErrorCodeName(ErrorCode::kMissingPrivilege)) == "missing_privilege");
  CHECK(std::string(ErrorCodeName(ErrorCode::kNotAReplica)) == "not_a_replica");
  CHECK(std::string(ErrorCodeName(ErrorCode::kConnect)) == "connect");
}

}  // namespace
}  // namespace caretaker::mysql
