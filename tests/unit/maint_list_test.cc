// `caretaker maint list`: the table and the JSON, exact strings.
#include <algorithm>
#include <catch2/catch.hpp>

#include "src/cli/maint_list.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

SysSeconds At(std::string_view utc) { return ParseUtc(utc).value(); }

MaintRecord Record(std::string pool, std::string server, std::string host, std::string phase, std::string who,
                   std::string since, std::optional<std::string> until, std::string reason) {
  MaintRecord r;
  r.pool = std::move(pool);
  r.server = std::move(server);
  r.host = std::move(host);
  r.phase = std::move(phase);
  r.who = std::move(who);
  r.since = At(since);
  if (until) r.until = At(*until);
  r.reason = std::move(reason);
  return r;
}

// Given now 09:00: db1 in maintenance until 12:00, db2's until passed at
// 08:40, db7 with no until, since three days.
std::vector<MaintRecord> Records() {
  return {
      Record("main", "db1", "10.0.0.1:3306", "maint", "ann@ops1", "2026-11-25T07:00:00Z", "2026-11-25T12:00:00Z",
             "kernel upgrade"),
      Record("main", "db2", "10.0.0.2:3306", "draining", "bob@ops2", "2026-11-25T08:15:30Z",
             "2026-11-25T08:40:00Z", "disk swap\nthen reboot"),
      Record("reports", "db7", "db7.example:3307", "enabling", "caretaker@lb1", "2026-11-22T05:00:00Z", std::nullopt,
             "weekly check"),
  };
}

const SysSeconds kNow = At("2026-11-25T09:00:00Z");

}  // namespace

TEST_CASE("maint list shows one aligned row per record, ages relative to now", "[maint]") {
  CHECK(RenderMaintList(Records(), kNow, false) ==
        "POOL     SERVER  HOST              PHASE     WHO            SINCE     UNTIL            REASON\n"
        "main     db1     10.0.0.1:3306     maint     ann@ops1       2h ago    in 3h            kernel upgrade\n"
        "main     db2     10.0.0.2:3306     draining  bob@ops2       44m ago   EXPIRED 20m ago  disk swap\\nthen reboot\n"
        "reports  db7     db7.example:3307  enabling  caretaker@lb1  3d4h ago  -                weekly check\n");
}

TEST_CASE("maint list colours an expired until red, and nothing else", "[maint]") {
  std::string out = RenderMaintList(Records(), kNow, true);
  CHECK(out.find("  \033[31mEXPIRED 20m ago  \033[0mdisk swap\\nthen reboot\n") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\033') == 2);
}

TEST_CASE("maint list with no records says so in one line", "[maint]") {
  CHECK(RenderMaintList({}, kNow, true) == "no hosts in maintenance\n");
  CHECK(RenderMaintListJson({}, kNow) == R"({"now":"2026-11-25T09:00:00Z","maintenance":[]})");
}

TEST_CASE("maint list ages use the two largest units, truncated", "[maint]") {
  const std::vector<std::pair<std::chrono::seconds, std::string>> cases = {
      {0s, "0s ago"},         {59s, "59s ago"},        {60s, "1m ago"},      {3599s, "59m ago"},
      {1h, "1h ago"},         {2h + 15min, "2h15m ago"}, {24h - 1s, "23h59m ago"}, {24h, "1d ago"},
      {76h + 5min, "3d4h ago"}, {-90s, "in 1m"},      {-(2h + 30s), "in 2h"},
  };
  for (const auto& [age, text] : cases) {
    INFO(text);
    MaintRecord r = Records()[2];
    r.since = kNow - age;
    std::string out = RenderMaintList({r}, kNow, false);
    CHECK(out.find("  " + text + "  ") != std::string::npos);
  }
}

TEST_CASE("maint list shows control characters escaped, so a reason cannot drive the terminal", "[maint]") {
  MaintRecord r = Records()[2];
  r.reason = "a\tb\x1b[2Jc\r\x7f\xc2\x9b" "31m é";
  std::string out = RenderMaintList({r}, kNow, false);
  CHECK(out.ends_with("  a\\tb\\x1b[2Jc\\x0d\\x7f\\u009b31m é\n"));
  // Non-ASCII text counts one column per character.
  r.who = "zoë@ops1";
  out = RenderMaintList({r}, kNow, false);
  CHECK(out.find("\nreports  db7     db7.example:3307  enabling  zoë@ops1  3d4h ago  -      a\\t") !=
        std::string::npos);
}

TEST_CASE("maint list --json has a stable shape, until null when unset", "[maint]") {
  std::vector<MaintRecord> records = Records();
  records.erase(records.begin());
  CHECK(RenderMaintListJson(records, kNow) ==
        R"({"now":"2026-11-25T09:00:00Z","maintenance":[)"
        R"({"pool":"main","server":"db2","host":"10.0.0.2:3306","phase":"draining","who":"bob@ops2",)"
        R"("reason":"disk swap\nthen reboot","since":"2026-11-25T08:15:30Z","until":"2026-11-25T08:40:00Z",)"
        R"("expired":true,"job":0},)"
        R"({"pool":"reports","server":"db7","host":"db7.example:3307","phase":"enabling","who":"caretaker@lb1",)"
        R"("reason":"weekly check","since":"2026-11-22T05:00:00Z","until":null,"expired":false,"job":0}]})");
}

}  // namespace caretaker
