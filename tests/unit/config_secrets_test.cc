// Durations and the MySQL password: the config values that are not TOML
// structure.
#include <stdlib.h>

#include <catch2/catch.hpp>
#include <string>

#include "src/config/config.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {

using namespace std::chrono_literals;

TEST_CASE("durations parse one integer and one unit", "[config]") {
  const std::vector<std::pair<std::string, std::optional<Millis>>> cases = {
      {"250ms", 250ms}, {"5s", 5s},         {"10m", 10min}, {"3h", 3h},
      {"1d", 24h},      {"0s", 0ms},        {"-5s", -5s},   {"90s", 90s},
      {"", std::nullopt}, {"5", std::nullopt}, {"s", std::nullopt}, {"5 s", std::nullopt},
      {" 5s", std::nullopt}, {"+5s", std::nullopt}, {"1.5s", std::nullopt}, {"5S", std::nullopt},
      {"5sec", std::nullopt}, {"5 seconds", std::nullopt}, {"5us", std::nullopt},
      {"999999999999999999d", std::nullopt},  // overflows milliseconds
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    CHECK(ParseDuration(text) == expected);
  }
}

TEST_CASE("FormatDuration uses the largest exact unit and round-trips", "[config]") {
  const std::vector<std::pair<Millis, std::string>> cases = {
      {250ms, "250ms"}, {1500ms, "1500ms"}, {5s, "5s"}, {90s, "90s"},   {2min, "2m"},
      {3h, "3h"},       {24h, "1d"},        {0ms, "0s"}, {-5s, "-5s"}, {25h, "25h"},
  };
  for (const auto& [d, text] : cases) {
    INFO(text);
    CHECK(FormatDuration(d) == text);
    CHECK(ParseDuration(text) == d);
  }
}

TEST_CASE("a password file readable by group or others is refused", "[config]") {
  TempDir dir;
  MysqlConfig mysql;
  mysql.password_file = dir.Write("pass", "s3cret\n", 0644);
  auto password = ReadMysqlPassword(mysql);
  REQUIRE_FALSE(password);
  CHECK(password.error().message ==
        "MySQL password file " + mysql.password_file + " (mysql.password_file) has mode 0644, "
        "which gives group or others access; fix it with: chmod 600 " + mysql.password_file);
  CHECK(password.error().message.find("s3cret") == std::string::npos);

  ::chmod(mysql.password_file.c_str(), 0640);
  CHECK_FALSE(ReadMysqlPassword(mysql));
  ::chmod(mysql.password_file.c_str(), 0601);
  CHECK_FALSE(ReadMysqlPassword(mysql));
}

TEST_CASE("a password file of mode 0600 is read, minus one trailing newline", "[config]") {
  TempDir dir;
  MysqlConfig mysql;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"s3cret\n", "s3cret"},  {"s3cret", "s3cret"}, {"s3cret\n\n", "s3cret\n"},
      {"s3cret\r\n", "s3cret"}, {" sp ace \n", " sp ace "},
  };
  for (const auto& [content, expected] : cases) {
    INFO(content);
    mysql.password_file = dir.Write("pass", content, 0600);
    auto password = ReadMysqlPassword(mysql);
    REQUIRE(password);
    CHECK(password.value() == expected);
  }
  mysql.password_file = dir.Write("pass", "s3cret\n", 0400);
  CHECK(ReadMysqlPassword(mysql).value() == "s3cret");
}

TEST_CASE("a missing, empty or unusable password file is a clear error", "[config]") {
  TempDir dir;
  MysqlConfig mysql;
  mysql.password_file = dir.path() + "/absent";
  mysql.password_env = "CARETAKER_TEST_UNUSED";  // the file wins even when it fails
  auto missing = ReadMysqlPassword(mysql);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "MySQL password file " + mysql.password_file +
                                       " (mysql.password_file): cannot read: No such file or "
                                       "directory — create it (mode 600) with the password of MySQL user "
                                       "mysql.user");
  mysql.password_file = dir.Write("empty", "\n", 0600);
  CHECK(ReadMysqlPassword(mysql).error().message ==
        "MySQL password file " + mysql.password_file + " (mysql.password_file) is empty");
  mysql.password_file = dir.path();
  CHECK(ReadMysqlPassword(mysql).error().message ==
        "MySQL password file " + dir.path() + " (mysql.password_file) is not a regular file");
}

TEST_CASE("the password comes from the environment variable when no file is set", "[config]") {
  MysqlConfig mysql;
  mysql.password_env = "CARETAKER_TEST_MYSQL_PASSWORD";
  ::setenv("CARETAKER_TEST_MYSQL_PASSWORD", "from-env", 1);
  CHECK(ReadMysqlPassword(mysql).value() == "from-env");

  ::setenv("CARETAKER_TEST_MYSQL_PASSWORD", "", 1);
  CHECK(ReadMysqlPassword(mysql).error().message ==
        "environment variable CARETAKER_TEST_MYSQL_PASSWORD (mysql.password_env) is empty");

  ::unsetenv("CARETAKER_TEST_MYSQL_PASSWORD");
  CHECK(ReadMysqlPassword(mysql).error().message ==
        "environment variable CARETAKER_TEST_MYSQL_PASSWORD (mysql.password_env) is not set");

  // given neither a file nor a variable: the password is empty.
  CHECK(ReadMysqlPassword(MysqlConfig{}).value() == "");
}

}  // namespace caretaker
