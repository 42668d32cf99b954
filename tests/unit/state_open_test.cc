// Opening the store of a config (importing an earlier caretaker's
// maintenance.toml once) and the halt check that every automated action
// makes: a halt record, the halt file, and failing closed.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "src/store/state_open.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {
namespace {

Config ConfigIn(const TempDir& dir) {
  Config c;
  c.state_dir = dir.path() + "/state";
  c.halt_file = dir.path() + "/HALT";
  return c;
}

const char* kOldRecords = R"([[maintenance]]
pool = "main"
server = "db2"
host = "10.0.0.2:3306"
who = "ann@ops1"
reason = "disk swap"
since = "2026-11-25T07:00:00Z"
phase = "maint"
)";

TEST_CASE("open: the maintenance.toml of an earlier caretaker is imported once and renamed", "[store]") {
  TempDir dir;
  Config c = ConfigIn(dir);
  std::filesystem::create_directories(c.state_dir);
  std::ofstream(c.state_dir + "/maintenance.toml") << kOldRecords;
  {
    auto store = OpenStateStore(c, "bob@ops2");
    REQUIRE(store);
    auto r = store.value()->Find("main", "db2").value();
    REQUIRE(r);
    CHECK(r->reason == "disk swap");
    CHECK(r->who == "ann@ops1");
  }
  CHECK_FALSE(std::filesystem::exists(c.state_dir + "/maintenance.toml"));
  CHECK(std::filesystem::exists(c.state_dir + "/maintenance.toml.imported"));
  auto store = OpenStateStore(c, "bob@ops2");
  REQUIRE(store);
  CHECK(store.value()->List().value().size() == 1);
  auto trail = store.value()->RecentAudit(10).value();
  REQUIRE_FALSE(trail.empty());
  CHECK(trail.back().action == "store.imported");
  CHECK(trail.back().who == "bob@ops2");
}

TEST_CASE("open: a maintenance.toml that cannot be read is an error naming it, and stays", "[store]") {
  TempDir dir;
  Config c = ConfigIn(dir);
  std::filesystem::create_directories(c.state_dir);
  std::ofstream(c.state_dir + "/maintenance.toml") << "[[maintenance]]\npool = \"main\"\n";
  auto store = OpenStateStore(c, "bob@ops2");
  REQUIRE_FALSE(store);
  CHECK(store.error().message.find(c.state_dir + "/maintenance.toml:") != std::string::npos);
  CHECK(std::filesystem::exists(c.state_dir + "/maintenance.toml"));
}

TEST_CASE("halt: nothing set lets actions start", "[halt]") {
  TempDir dir;
  Config c = ConfigIn(dir);
  auto store = OpenStateStore(c, "bob@ops2").value();
  HaltCheck check = CheckHalt(store.get(), c.halt_file);
  CHECK_FALSE(check.halted);
  CHECK(check.why.empty());
}

TEST_CASE("halt: a halt record halts, says who and why, and carries --abort", "[halt]") {
  TempDir dir;
  Config c = ConfigIn(dir);
  auto store = OpenStateStore(c, "bob@ops2").value();
  REQUIRE(store->SetHalt({"cy@ops3", "incident 4412", ParseUtc("2026-11-25T08:00:00Z").value(), true}));
  HaltCheck check = CheckHalt(store.get(), c.halt_file);
  CHECK(check.halted);
  CHECK(check.abort);
  CHECK(check.why == "halted by cy@ops3 since 2026-11-25T08:00:00Z: incident 4412");
}

TEST_CASE("halt: the halt file halts, with its first line as the reason", "[halt]") {
  TempDir dir;
  Config c = ConfigIn(dir);
  auto store = OpenStateStore(c, "bob@ops2").value();
  std::ofstream(c.halt_file) << "store is down, incident 4412\nmore\n";
  HaltCheck check = CheckHalt(store.get(), c.halt_file);
  CHECK(check.halted);
  CHECK_FALSE(check.abort);
  CHECK(check.why == "the halt file " + c.halt_file + " exists: store is down, incident 4412 (remove it to resume)");
  std::ofstream(c.halt_file, std::ios::trunc).flush();
  CHECK(CheckHalt(store.get(), c.halt_file).why == "the halt file " + c.halt_file + " exists (remove it to resume)");
}

TEST_CASE("halt: fails closed when the halt file cannot be checked or the store cannot be read", "[halt]") {
  TempDir dir;
  Config c = ConfigIn(dir);
  auto store = OpenStateStore(c, "bob@ops2").value();
  // A path through a regular file: stat fails with ENOTDIR, not ENOENT.
  std::string file = dir.Write("plain", "x", 0600);
  HaltCheck check = CheckHalt(store.get(), file + "/HALT");
  CHECK(check.halted);
  CHECK(check.why.find("cannot check the halt file") != std::string::npos);

  CHECK(CheckHalt(nullptr, c.halt_file).halted);

  // The store's file replaced by something that is not a database.
  store.reset();
  std::filesystem::remove(StateStorePath(c) + "-wal");
  std::filesystem::remove(StateStorePath(c) + "-shm");
  auto reopened = OpenSqliteStore(StateStorePath(c)).value();
  std::ofstream(StateStorePath(c), std::ios::trunc) << std::string(8192, 'x');
  check = CheckHalt(reopened.get(), c.halt_file);
  CHECK(check.halted);
  CHECK(check.why.find("cannot read the halt switch, so nothing starts (fail closed)") != std::string::npos);
}

}  // namespace
}  // namespace caretaker
