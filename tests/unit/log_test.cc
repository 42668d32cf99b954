#include <catch2/catch.hpp>

#include "src/base/log.h"

namespace caretaker {
namespace {

TEST_CASE("JSON log lines are escaped and carry ts, level, event and the fields", "[log]") {
  std::string line = FormatEventJson("2026-11-25T04:50:00.123Z", "info", "drain.start",
                                     {{"pool", "replicas"}, {"server", "db1"}, {"sessions", 3}, {"forced", false}});
  CHECK(line ==
        R"({"ts":"2026-11-25T04:50:00.123Z","level":"info","event":"drain.start","pool":"replicas",)"
        R"("server":"db1","sessions":3,"forced":false})");
  std::string evil = FormatEventJson("t", "error", "step.output", {{"line", "a\"b\\c\nd\te\x01"}});
  CHECK(evil == R"({"ts":"t","level":"error","event":"step.output","line":"a\"b\\c\nd\te\u0001"})");
}

TEST_CASE("JSON escaping keeps UTF-8 and replaces invalid bytes", "[log]") {
  CHECK(JsonEscape("café") == "café");
  CHECK(JsonEscape("a\xff" "b") == "a\xEF\xBF\xBD" "b");
  CHECK(JsonEscape("\xC3") == "\xEF\xBF\xBD");  // truncated sequence
  CHECK(JsonEscape(std::string_view("\0x", 2)) == "\\u0000x");
  const std::string bad = "\xEF\xBF\xBD";
  CHECK(JsonEscape("\xC0\xAF") == bad + bad);          // overlong '/'
  CHECK(JsonEscape("\xE0\x80\xAF") == bad + bad + bad);  // overlong 3-byte
  CHECK(JsonEscape("\xED\xA0\x80") == bad + bad + bad);  // a surrogate
  CHECK(JsonEscape("\xF5\x80\x80\x80") == bad + bad + bad + bad);  // above U+10FFFF
  CHECK(JsonEscape("\xF0\x9F\x98\x80") == "\xF0\x9F\x98\x80");  // U+1F600 is fine
  CHECK(JsonEscape("\xED\x9F\xBF") == "\xED\x9F\xBF");          // U+D7FF is fine
}

TEST_CASE("human log lines are key=value, quoted when needed", "[log]") {
  CHECK(FormatEventHuman("drain.start", {{"pool", "replicas"}, {"n", 2}}) == "drain.start pool=replicas n=2");
  CHECK(FormatEventHuman("haproxy.unreachable", {{"error", "no reply within 5s"}, {"lb", ""}}) ==
        R"(haproxy.unreachable error="no reply within 5s" lb="")");
}

TEST_CASE("log options parse", "[log]") {
  LogFormat f;
  LogLevel l;
  CHECK(ParseLogFormat("json", &f));
  CHECK(f == LogFormat::kJson);
  CHECK_FALSE(ParseLogFormat("xml", &f));
  CHECK(ParseLogLevel("warn", &l));
  CHECK(l == LogLevel::kWarn);
  CHECK_FALSE(ParseLogLevel("verbose", &l));
}

}  // namespace
}  // namespace caretaker
