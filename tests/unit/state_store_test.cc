// The SQLite state store: records, halt and audit round trips, durability
// across reopen, file modes, schema versions (a newer one refused), two
// processes writing at once, and readers while a writer holds a transaction.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <map>
#include <random>
#include <thread>

#include "src/store/state_store.h"
#include "tests/unit/store_fixture.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {
namespace {

using store_testing::Open;
using store_testing::RawExec;

SysSeconds At(std::string_view utc) { return ParseUtc(utc).value(); }

MaintRecord Record(std::string pool, std::string server, std::string phase = "maint") {
  MaintRecord r;
  r.pool = std::move(pool);
  r.server = std::move(server);
  r.host = "10.0.0.2:3306";
  r.who = "ann@ops1";
  r.reason = "kernel upgrade";
  r.since = At("2026-11-25T07:00:00Z");
  r.until = At("2026-11-25T12:00:00Z");
  r.phase = std::move(phase);
  return r;
}

std::vector<std::string> Actions(const StateStore& store) {
  std::vector<std::string> out;
  auto trail = store.RecentAudit(100).value();
  for (const AuditEntry& e : trail) out.push_back(e.action + " " + e.target);
  return out;
}

TEST_CASE("store: a record put is found, listed in order, replaced and removed", "[store]") {
  TempDir dir;
  auto store = Open(dir.path() + "/state/caretaker.db");
  REQUIRE(store->Put(Record("main", "db2")));
  REQUIRE(store->Put(Record("archive", "db9")));
  REQUIRE(store->Put(Record("main", "db1", "draining")));
  auto list = store->List().value();
  REQUIRE(list.size() == 3);
  CHECK(list[0].pool == "archive");
  CHECK(list[1].server == "db1");
  CHECK(list[2].server == "db2");
  MaintRecord found = store->Find("main", "db1").value().value();
  CHECK(found.phase == "draining");
  CHECK(found.until == At("2026-11-25T12:00:00Z"));
  CHECK(found.host == "10.0.0.2:3306");

  MaintRecord steps = Record("main", "db1", "steps");
  steps.until.reset();
  REQUIRE(store->Put(steps));
  found = store->Find("main", "db1").value().value();
  CHECK(found.phase == "steps");
  CHECK_FALSE(found.until);
  CHECK(store->List().value().size() == 3);

  REQUIRE(store->Remove("main", "db1"));
  REQUIRE(store->Remove("main", "db1"));  // absent: still success
  CHECK_FALSE(store->Find("main", "db1").value());
  CHECK(Actions(*store) == std::vector<std::string>{"maint.maint main/db2", "maint.maint archive/db9",
                                                    "maint.draining main/db1", "maint.steps main/db1",
                                                    "maint.released main/db1"});
}

TEST_CASE("store: a bad record is refused and nothing changes", "[store]") {
  auto store = Open("");
  MaintRecord r = Record("main", "db1");
  r.reason = "";
  auto put = store->Put(r);
  REQUIRE_FALSE(put);
  CHECK(put.error().message.find("reason must not be empty") != std::string::npos);
  r = Record("main", "db1", "lunch");
  CHECK_FALSE(store->Put(r));
  r = Record("main", "db1");
  r.who = "\xff";
  CHECK_FALSE(store->Put(r));
  CHECK(store->List().value().empty());
  CHECK(store->RecentAudit(10).value().empty());
}

TEST_CASE("store: records and the halt survive a reopen, in a 0600 file in a 0700 directory", "[store]") {
  TempDir dir;
  std::string path = dir.path() + "/a/b/caretaker.db";
  {
    auto store = Open(path);
    REQUIRE(store->Put(Record("main", "db1")));
    REQUIRE(store->SetHalt({"bob@ops2", "incident 4412", At("2026-11-25T08:00:00Z"), false}));
  }
  auto store = Open(path);
  CHECK(store->Find("main", "db1").value());
  auto halt = store->ReadHalt().value();
  REQUIRE(halt);
  CHECK(halt->who == "bob@ops2");
  CHECK(halt->reason == "incident 4412");
  CHECK(halt->since == At("2026-11-25T08:00:00Z"));
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat((dir.path() + "/a/b").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
}

TEST_CASE("store: halt is set, replaced and cleared, each in the audit trail", "[store]") {
  auto store = Open("");
  CHECK_FALSE(store->ReadHalt().value());
  CHECK_FALSE(store->ClearHalt("ann@ops1").value());  // nothing to clear
  CHECK_FALSE(store->SetHalt({"bob@ops2", "", At("2026-11-25T08:00:00Z"), false}));
  REQUIRE(store->SetHalt({"bob@ops2", "incident 4412", At("2026-11-25T08:00:00Z"), false}));
  REQUIRE(store->SetHalt({"cy@ops3", "stop the steps too", At("2026-11-25T08:01:00Z"), true}));
  CHECK(store->ReadHalt().value()->abort);
  auto was = store->ClearHalt("ann@ops1").value();
  REQUIRE(was);
  CHECK(was->who == "cy@ops3");
  CHECK_FALSE(store->ReadHalt().value());
  auto trail = store->RecentAudit(10).value();
  REQUIRE(trail.size() == 3);
  CHECK(trail[0].action == "halt");
  CHECK(trail[1].action == "halt.abort");
  CHECK(trail[2].action == "resume");
  CHECK(trail[2].who == "ann@ops1");
  CHECK(trail[2].detail == "halted by cy@ops3: stop the steps too");
  CHECK(trail[0].id < trail[1].id);
}

TEST_CASE("store: the audit trail keeps the last entries, oldest first", "[store]") {
  auto store = Open("");
  store->SetActor("ann@ops1 (caretaker roll)");
  for (int i = 0; i < 5; ++i) REQUIRE(store->Audit({0, {}, "", "note", "", std::to_string(i)}));
  auto last = store->RecentAudit(2).value();
  REQUIRE(last.size() == 2);
  CHECK(last[0].detail == "3");
  CHECK(last[1].detail == "4");
  CHECK(last[1].who == "ann@ops1 (caretaker roll)");
}

TEST_CASE("store: the audit trail is listed newest first, filtered and paged by id", "[store]") {
  auto store = Open("");
  REQUIRE(store->Audit({0, {}, "ann@ops1", "maint.maint", "pool-a/db1", "kernel"}));
  REQUIRE(store->Audit({0, {}, "bob@ops2", "halt", "", "incident"}));
  REQUIRE(store->Audit({0, {}, "ann@ops1", "maint.released", "pool-a/db1", ""}));
  REQUIRE(store->Audit({0, {}, "ann@ops1", "maint_x", "pool-ab/db9", "not a maint. action"}));
  auto api = store->Audit({0, {}, "ci (api)", "api.halt", "", "deploy freeze", "operator", "127.0.0.1", "r-1", ""});
  REQUIRE(api);
  REQUIRE(store->SetAuditResult(api.value(), "ok"));

  auto all = store->ListAudit({}).value();
  REQUIRE(all.size() == 5);
  CHECK(all.front().action == "api.halt");
  CHECK(all.front().role == "operator");
  CHECK(all.front().remote == "127.0.0.1");
  CHECK(all.front().request_id == "r-1");
  CHECK(all.front().result == "ok");
  CHECK(all.back().action == "maint.maint");

  auto maint = store->ListAudit({0, "", "maint.", "", 100}).value();
  REQUIRE(maint.size() == 2);  // a prefix, and `.` and `_` are literal
  CHECK(maint[0].action == "maint.released");
  CHECK(store->ListAudit({0, "", "", "pool-a/", 100}).value().size() == 2);
  CHECK(store->ListAudit({0, "bob@ops2", "", "", 100}).value().size() == 1);
  CHECK(store->ListAudit({0, "bob", "", "", 100}).value().empty());  // the actor is exact

  // Pages of two, each before the last id of the one before: none lost or repeated.
  std::vector<int64_t> seen;
  int64_t before = 0;
  for (int page = 0; page < 4; ++page) {
    auto got = store->ListAudit({before, "", "", "", 2}).value();
    for (const AuditEntry& e : got) seen.push_back(e.id);
    if (got.size() < 2) break;
    before = got.back().id;
  }
  REQUIRE(seen.size() == 5);
  for (size_t i = 1; i < seen.size(); ++i) CHECK(seen[i] < seen[i - 1]);
}

TEST_CASE("store: a store of a newer schema is refused, unchanged", "[store]") {
  TempDir dir;
  std::string path = dir.path() + "/caretaker.db";
  { Open(path); }
  RawExec(path, "PRAGMA user_version = 99");
  auto store = OpenSqliteStore(path);
  REQUIRE_FALSE(store);
  CHECK(store.error().message.find("schema version 99, newer than this caretaker knows") != std::string::npos);
}

TEST_CASE("store: a file that is not a database is an error that names it", "[store]") {
  TempDir dir;
  std::string path = dir.Write("caretaker.db", std::string(4096, 'x'), 0600);
  auto store = OpenSqliteStore(path);
  REQUIRE_FALSE(store);
  CHECK(store.error().message.find(path) != std::string::npos);
  CHECK(store.error().message.find("not a caretaker state store") != std::string::npos);
}

TEST_CASE("store: two processes each putting 50 records lose none", "[store]") {
  TempDir dir;
  std::string path = dir.path() + "/caretaker.db";
  { Open(path); }
  std::vector<pid_t> children;
  for (std::string pool : {"a", "b"}) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto store = OpenSqliteStore(path);
      bool ok = bool(store);
      for (int i = 0; ok && i < 50; ++i) ok = bool(store.value()->Put(Record(pool, "db" + std::to_string(i))));
      ::_exit(ok ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  auto store = Open(path);
  CHECK(store->List().value().size() == 100);
  CHECK(store->RecentAudit(1000).value().size() == 100);
}

TEST_CASE("store: readers see the last commit while another process holds a write transaction", "[store]") {
  // Given a committed halt and a writer that began a transaction and is
  // stuck in it, expect readers in this process to read the halt at once.
  TempDir dir;
  std::string path = dir.path() + "/caretaker.db";
  auto store = Open(path);
  REQUIRE(store->SetHalt({"bob@ops2", "incident", At("2026-11-25T08:00:00Z"), false}));
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db, "BEGIN IMMEDIATE; DELETE FROM halt;", nullptr, nullptr, nullptr);
    (void)!::write(ready[1], "x", 1);
    ::sleep(30);  // killed below
    ::_exit(0);
  }
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  std::vector<std::thread> readers;
  std::atomic<int> saw_halt{0};
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      auto reader = OpenSqliteStore(path);
      if (reader && reader.value()->ReadHalt() && reader.value()->ReadHalt().value()) ++saw_halt;
    });
  }
  for (auto& t : readers) t.join();
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
  CHECK(saw_halt == 4);
  CHECK(store->ReadHalt().value());  // the killed writer's change never happened
}

TEST_CASE("store: random puts and removes agree with a std::map", "[store]") {
  auto store = Open("");
  std::map<std::pair<std::string, std::string>, MaintRecord> model;
  std::mt19937 rng(20261125);
  for (int step = 0; step < 200; ++step) {
    MaintRecord r = Record(rng() % 2 ? "main" : "archive", "db" + std::to_string(rng() % 6));
    if (rng() % 3 == 0) {
      REQUIRE(store->Remove(r.pool, r.server));
      model.erase({r.pool, r.server});
    } else {
      r.phase = std::array{"draining", "maint", "steps", "enabling"}[rng() % 4];
      REQUIRE(store->Put(r));
      model[{r.pool, r.server}] = r;
    }
    auto list = store->List().value();
    REQUIRE(list.size() == model.size());
    auto it = model.begin();
    for (const MaintRecord& got : list) {
      CHECK(got.pool == it->second.pool);
      CHECK(got.server == it->second.server);
      CHECK(got.phase == it->second.phase);
      ++it;
    }
  }
}

TEST_CASE("store: PutAll writes a wave of records in one transaction, or none of them", "[store]") {
  TempDir dir;
  auto store = Open(dir.path() + "/state/caretaker.db");
  REQUIRE(store->PutAll({Record("main", "db1", "draining"), Record("main", "db2", "draining")}));
  CHECK(store->List().value().size() == 2);
  CHECK(Actions(*store) == std::vector<std::string>{"maint.draining main/db1", "maint.draining main/db2"});

  // One bad record: the whole wave is refused, the good ones too.
  MaintRecord bad = Record("main", "db4");
  bad.reason = "";
  REQUIRE_FALSE(store->PutAll({Record("main", "db3", "draining"), bad}));
  CHECK_FALSE(store->Find("main", "db3").value());
  CHECK(store->List().value().size() == 2);
}

}  // namespace
}  // namespace caretaker
