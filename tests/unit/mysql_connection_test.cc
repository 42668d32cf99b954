// The options every handle gets, read back from Connector/C itself
// (mysql_get_optionv), so no server is needed: TCP, the three timeouts, and
// TLS with server-certificate verification when asked.
#include <mysql.h>

#include <catch2/catch.hpp>
#include <string>

#include "mysql/connection.h"

namespace caretaker::mysql {
namespace {

unsigned int UIntOption(MYSQL* m, mysql_option option) {
  unsigned int value = 12345;
  REQUIRE(mysql_get_optionv(m, option, &value) == 0);
  return value;
}

TEST_CASE("a handle always forces TCP and sets the three timeouts", "[mysql]") {
  Target t;
  t.host = "localhost";  // would mean the Unix socket without MYSQL_OPT_PROTOCOL
  t.connect_timeout = std::chrono::seconds(2);
  t.read_timeout = std::chrono::seconds(7);
  t.write_timeout = std::chrono::seconds(9);
  auto h = NewHandle(t);
  REQUIRE(h);
  MYSQL* m = h.value().get();
  CHECK(UIntOption(m, MYSQL_OPT_PROTOCOL) == MYSQL_PROTOCOL_TCP);
  CHECK(UIntOption(m, MYSQL_OPT_CONNECT_TIMEOUT) == 2);
  CHECK(UIntOption(m, MYSQL_OPT_READ_TIMEOUT) == 7);
  CHECK(UIntOption(m, MYSQL_OPT_WRITE_TIMEOUT) == 9);
}

TEST_CASE("TLS: the server certificate is verified against the CA file", "[mysql]") {
  Target t;
  t.tls.enabled = true;
  t.tls.ca_file = "/etc/caretaker/ca.pem";
  auto h = NewHandle(t);
  REQUIRE(h);
  MYSQL* m = h.value().get();
  my_bool verify = 0, use_tls = 0;
  REQUIRE(mysql_get_optionv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify) == 0);
  CHECK(verify == 1);
  REQUIRE(mysql_get_optionv(m, MYSQL_OPT_SSL_ENFORCE, &use_tls) == 0);
  CHECK(use_tls == 1);
  const char* ca = nullptr;
  REQUIRE(mysql_get_optionv(m, MYSQL_OPT_SSL_CA, &ca) == 0);
  REQUIRE(ca != nullptr);
  CHECK(std::string(ca) == "/etc/caretaker/ca.pem");
}

TEST_CASE("without TLS nothing of TLS is set", "[mysql]") {
  auto h = NewHandle(Target{});
  REQUIRE(h);
  const char* ca = nullptr;
  REQUIRE(mysql_get_optionv(h.value().get(), MYSQL_OPT_SSL_CA, &ca) == 0);
  CHECK(ca == nullptr);
  my_bool use_tls = 1;
  REQUIRE(mysql_get_optionv(h.value().get(), MYSQL_OPT_SSL_ENFORCE, &use_tls) == 0);
  CHECK(use_tls == 0);
}

TEST_CASE("servers are named host:port, IPv6 bracketed", "[mysql]") {
  Target t;
  t.host = "10.0.0.5";
  t.port = 3307;
  CHECK(Where(t) == "10.0.0.5:3307");
  t.host = "::1";
  CHECK(Where(t) == "[::1]:3307");
}

TEST_CASE("columns are found by the first matching name", "[mysql]") {
  Rows rows;
  rows.columns = {"Replica_IO_Running", "Seconds_Behind_Source"};
  CHECK(rows.Find({"Slave_IO_Running", "Replica_IO_Running"}) == 0u);
  CHECK(rows.Find({"Seconds_Behind_Master", "Seconds_Behind_Source"}) == 1u);
  CHECK_FALSE(rows.Find({"Slave_SQL_Running"}).has_value());
}

}  // namespace
}  // namespace caretaker::mysql
