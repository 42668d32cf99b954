// Maintenance records in one TOML file: round trips, durability rules (modes,
// a corrupt file is never overwritten), errors that name path:line, strings
// that round-trip exactly, and writers in two threads or two processes that
// never lose each other's records.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "src/store/maint_record.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;

SysSeconds At(std::string_view utc) { return ParseUtc(utc).value(); }

MaintRecord Record(std::string pool, std::string server) {
  MaintRecord r;
  r.pool = std::move(pool);
  r.server = std::move(server);
  r.host = "10.0.0.2:3306";
  r.who = "ann@ops1";
  r.reason = "kernel upgrade";
  r.since = At("2026-11-25T07:00:00Z");
  r.until = At("2026-11-25T12:00:00Z");
  r.phase = "maint";
  return r;
}

bool Same(const MaintRecord& a, const MaintRecord& b) {
  return a.pool == b.pool && a.server == b.server && a.host == b.host && a.who == b.who &&
         a.reason == b.reason && a.since == b.since && a.until == b.until && a.phase == b.phase;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

std::vector<std::string> Keys(const std::vector<MaintRecord>& records) {
  std::vector<std::string> out;
  for (const MaintRecord& r : records) out.push_back(r.pool + "/" + r.server);
  return out;
}

}  // namespace

TEST_CASE("FormatUtc and ParseUtc round-trip whole UTC seconds", "[maint]") {
  using std::chrono::sys_days;
  using namespace std::chrono;
  const std::vector<std::pair<SysSeconds, std::string>> cases = {
      {sys_days{1970y / 1 / 1}, "1970-01-01T00:00:00Z"},
      {sys_days{2026y / 11 / 25} + 7h, "2026-11-25T07:00:00Z"},
      {sys_days{2024y / 2 / 29} + 23h + 59min + 59s, "2024-02-29T23:59:59Z"},
      {sys_days{1969y / 12 / 31} + 12h, "1969-12-31T12:00:00Z"},
      {sys_days{9999y / 12 / 31}, "9999-12-31T00:00:00Z"},
      {sys_days{0y / 1 / 1}, "0000-01-01T00:00:00Z"},
  };
  for (const auto& [t, text] : cases) {
    INFO(text);
    CHECK(FormatUtc(t) == text);
    CHECK(ParseUtc(text) == t);
  }
}

TEST_CASE("ParseUtc refuses anything but YYYY-MM-DDTHH:MM:SSZ", "[maint]") {
  for (std::string_view bad : {
           "", "2026-11-25", "2026-11-25T07:00:00", "2026-11-25T07:00:00z", "2026-11-25t07:00:00Z",
           "2026-11-25 07:00:00Z", "2026-11-25T07:00Z", "2026-11-25T07:00:00.5Z", "2026-11-25T07:00:00+00:00",
           " 2026-11-25T07:00:00Z", "2026-11-25T07:00:00Z ", "26-11-25T07:00:00Z", "2026-1-25T07:00:00Z",
           "2026-13-01T00:00:00Z", "2026-00-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
           "2026-11-00T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T07:60:00Z", "2026-11-25T07:00:60Z",
           "+026-11-25T07:00:00Z", "2026-11-25T0a:00:00Z", "２026-11-25T07:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(ParseUtc(bad));
  }
}

TEST_CASE("a record expires when its until is at or before now", "[maint]") {
  MaintRecord r = Record("main", "db2");  // until 12:00
  CHECK_FALSE(r.Expired(At("2026-11-25T11:59:59Z")));
  CHECK(r.Expired(At("2026-11-25T12:00:00Z")));
  CHECK(r.Expired(At("2026-11-26T00:00:00Z")));
  r.until.reset();
  CHECK_FALSE(r.Expired(At("2099-01-01T00:00:00Z")));
}

TEST_CASE("a missing file or directory lists empty and Remove creates nothing", "[maint]") {
  TempDir dir;
  std::string path = dir.path() + "/no/such/dir/maintenance.toml";
  auto records = OpenFileMaintRecords(path);
  auto list = records->List();
  REQUIRE(list);
  CHECK(list.value().empty());
  auto found = records->Find("main", "db2");
  REQUIRE(found);
  CHECK_FALSE(found.value());
  CHECK(records->Remove("main", "db2"));
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/no"));
}

TEST_CASE("put, find, list and remove round-trip through the file", "[maint]") {
  // Given two records put out of order, expect them listed by pool then
  // server, found by key, read back by a second instance, removed one by one.
  TempDir dir;
  std::string path = dir.path() + "/maintenance.toml";
  auto records = OpenFileMaintRecords(path);
  MaintRecord b = Record("main", "db2");
  MaintRecord a = Record("main", "db1");
  a.until.reset();
  a.phase = "draining";
  MaintRecord c = Record("archive", "db9");
  REQUIRE(records->Put(b));
  REQUIRE(records->Put(a));
  REQUIRE(records->Put(c));

  auto list = OpenFileMaintRecords(path)->List();
  REQUIRE(list);
  CHECK(Keys(list.value()) == std::vector<std::string>{"archive/db9", "main/db1", "main/db2"});
  CHECK(Same(list.value()[1], a));
  CHECK(Same(list.value()[2], b));
  auto found = records->Find("main", "db1");
  REQUIRE(found);
  REQUIRE(found.value());
  CHECK(Same(*found.value(), a));
  CHECK_FALSE(records->Find("main", "db3").value());

  REQUIRE(records->Remove("main", "db1"));
  CHECK(Keys(records->List().value()) == std::vector<std::string>{"archive/db9", "main/db2"});
  REQUIRE(records->Remove("main", "db1"));  // absent: success
  REQUIRE(records->Remove("archive", "db9"));
  REQUIRE(records->Remove("main", "db2"));
  CHECK(records->List().value().empty());
}

TEST_CASE("a Put of an existing pool/server replaces its record in place", "[maint]") {
  TempDir dir;
  auto records = OpenFileMaintRecords(dir.path() + "/maintenance.toml");
  REQUIRE(records->Put(Record("main", "db1")));
  REQUIRE(records->Put(Record("main", "db2")));
  MaintRecord changed = Record("main", "db1");
  changed.phase = "enabling";
  changed.reason = "done";
  changed.until.reset();
  REQUIRE(records->Put(changed));
  auto list = records->List().value();
  REQUIRE(Keys(list) == std::vector<std::string>{"main/db1", "main/db2"});
  CHECK(Same(list[0], changed));
}

TEST_CASE("the file has one [[maintenance]] table per record", "[maint]") {
  TempDir dir;
  std::string path = dir.path() + "/maintenance.toml";
  auto records = OpenFileMaintRecords(path);
  REQUIRE(records->Put(Record("main", "db2")));
  std::string text = Slurp(path);
  CHECK(text.starts_with("# "));
  CHECK(text.find("[[maintenance]]\n") != std::string::npos);
  CHECK(text.find("pool = \"main\"\n") != std::string::npos);
  CHECK(text.find("since = \"2026-11-25T07:00:00Z\"\n") != std::string::npos);
  CHECK(text.find("until = \"2026-11-25T12:00:00Z\"\n") != std::string::npos);
  CHECK(text.find("phase = \"maint\"\n") != std::string::npos);

  REQUIRE(records->Remove("main", "db2"));
  CHECK(Slurp(path).find("maintenance = []") != std::string::npos);
}

TEST_CASE("the first Put creates the directory 0700, parents too, and the file 0600", "[maint]") {
  TempDir dir;
  std::string base = dir.path() + "/var/lib/caretaker";
  std::string path = base + "/maintenance.toml";
  REQUIRE(OpenFileMaintRecords(path)->Put(Record("main", "db2")));
  CHECK(ModeOf(dir.path() + "/var") == 0700);
  CHECK(ModeOf(base) == 0700);
  CHECK(ModeOf(path) == 0600);
  CHECK(ModeOf(path + ".lock") == 0600);
  // No temp file is left behind.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(base)) files += entry.is_regular_file();
  CHECK(files == 2);
}

TEST_CASE("strings from operators round-trip exactly", "[maint]") {
  TempDir dir;
  std::string path = dir.path() + "/maintenance.toml";
  MaintRecord r = Record("main", "db:2");
  r.reason = std::string("say \"hi\"\\ 'x' '''\n\r\nline\ttab \x01\x1b[2J\x7f é 日本 🚀 \u2028 \"\"\" end") +
             std::string(1, '\0') + "z";
  r.who = "zoë@ops-1";
  r.host = "[::1]:3306";
  REQUIRE(OpenFileMaintRecords(path)->Put(r));
  auto list = OpenFileMaintRecords(path)->List();
  REQUIRE(list);
  REQUIRE(list.value().size() == 1);
  CHECK(list.value()[0].reason == r.reason);
  CHECK(Same(list.value()[0], r));
}

TEST_CASE("a Put of an invalid record is refused and writes nothing", "[maint]") {
  TempDir dir;
  std::string path = dir.path() + "/maintenance.toml";
  auto records = OpenFileMaintRecords(path);
  REQUIRE(records->Put(Record("main", "db1")));
  std::string before = Slurp(path);
  const std::vector<std::pair<std::function<void(MaintRecord&)>, std::string>> cases = {
      {[](MaintRecord& r) { r.reason.clear(); }, "reason must not be empty"},
      {[](MaintRecord& r) { r.pool.clear(); }, "pool must not be empty"},
      {[](MaintRecord& r) { r.server.clear(); }, "server must not be empty"},
      {[](MaintRecord& r) { r.phase = "resting"; }, "phase must be one of draining, maint, steps, gates, enabling, got \"resting\""},
      {[](MaintRecord& r) { r.reason = "bad \xff byte"; }, "reason must be valid UTF-8"},
      {[](MaintRecord& r) { r.who = "\xc0\xaf"; }, "who must be valid UTF-8"},  // overlong '/'
  };
  for (const auto& [spoil, problem] : cases) {
    INFO(problem);
    MaintRecord r = Record("main", "db2");
    spoil(r);
    auto put = records->Put(r);
    REQUIRE_FALSE(put);
    CHECK(put.error().message.find(path) != std::string::npos);
    CHECK(put.error().message.ends_with(problem));
  }
  CHECK(Slurp(path) == before);
}

TEST_CASE("a corrupt file is an error naming path:line:col, and a Put leaves it untouched", "[maint]") {
  // Given a file cut off mid-record, expect every operation to fail with its
  // position: a DBA must not lose the records that are still in it.
  TempDir dir;
  std::string text = "[[maintenance]]\npool = \"main\"\nserver = \"db1\n";
  std::string path = dir.Write("maintenance.toml", text, 0600);
  auto records = OpenFileMaintRecords(path);
  auto list = records->List();
  REQUIRE_FALSE(list);
  CHECK(list.error().message.starts_with(path + ":3:"));
  CHECK(list.error().message.find("caretaker does not overwrite records it cannot read") != std::string::npos);
  CHECK_FALSE(records->Find("main", "db1"));
  auto put = records->Put(Record("main", "db2"));
  REQUIRE_FALSE(put);
  CHECK(put.error().message == list.error().message);
  CHECK_FALSE(records->Remove("main", "db1"));
  CHECK(Slurp(path) == text);
}

TEST_CASE("a record with an unknown, missing, mistyped or duplicate key is an error naming it", "[maint]") {
  const std::string good =
      "pool = \"main\"\nserver = \"db1\"\nhost = \"h:1\"\nwho = \"ann\"\nreason = \"r\"\n"
      "since = \"2026-11-25T07:00:00Z\"\nphase = \"maint\"\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[[maintenance]]\n" + good + "color = \"red\"\n", ":9:1: maintenance[0].color: unknown key; remove it"},
      {"[[maintenance]]\n" + good.substr(good.find("host")), ":1:1: maintenance[0]: missing key \"pool\""},
      {"[[maintenance]]\n" + good + "until = 2026-11-25T12:00:00Z\n",
       ":9:9: maintenance[0].until: expected a string; quote the value"},
      {"[[maintenance]]\n" + good + "until = \"2026-11-25 12:00\"\n",
       ":9:9: maintenance[0].until: expected a UTC time like \"2026-11-25T07:00:00Z\", got \"2026-11-25 12:00\""},
      {"[[maintenance]]\n" + good + "\n[[maintenance]]\n" + good,
       ":10:1: maintenance[1]: a second record of main/db1; remove one of them"},
      {"[[maintenance]]\n" + good.substr(0, good.find("phase")) + "phase = \"up\"\n",
       ":8:9: maintenance[0].phase: must be one of draining, maint, steps, gates, enabling, got \"up\"; fix the record"},
      {"[[maintenance]]\n" + good.substr(0, good.find("reason")) + "reason = \"\"\n" + good.substr(good.find("since")),
       ":6:10: maintenance[0].reason: must not be empty; fix the record"},
      {"[[maintenance]]\n" + good.substr(0, good.find("phase")) + "phase = \"a\\nb\"\n",
       ":8:9: maintenance[0].phase: must be one of draining, maint, steps, gates, enabling, got \"a\\x0ab\"; fix the record"},
      {"hosts = 3\n", ":1:1: unknown key \"hosts\"; this file holds only [[maintenance]] tables, remove it"},
      {"maintenance = 3\n", ":1:15: maintenance: expected [[maintenance]] tables"},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    TempDir dir;
    std::string path = dir.Write("maintenance.toml", text, 0600);
    auto list = OpenFileMaintRecords(path)->List();
    REQUIRE_FALSE(list);
    INFO(list.error().message);
    CHECK(list.error().message.starts_with(path + expected));
  }
}

TEST_CASE("an empty file or one with only comments lists empty", "[maint]") {
  TempDir dir;
  for (std::string text : {"", "# nothing here\n", "maintenance = []\n"}) {
    INFO(text);
    auto list = OpenFileMaintRecords(dir.Write("maintenance.toml", text, 0600))->List();
    REQUIRE(list);
    CHECK(list.value().empty());
  }
}

TEST_CASE("a Put waits for the exclusive lock of <path>.lock", "[maint]") {
  // Given another process's lock held, expect the Put to block until it is
  // released, then complete.
  TempDir dir;
  std::string path = dir.path() + "/maintenance.toml";
  int lock = ::open((path + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  REQUIRE(lock >= 0);
  REQUIRE(::flock(lock, LOCK_EX) == 0);
  std::atomic<bool> done = false;
  std::thread writer([&] {
    CHECK(OpenFileMaintRecords(path)->Put(Record("main", "db1")));
    done = true;
  });
  std::this_thread::sleep_for(50ms);
  CHECK_FALSE(done);
  CHECK_FALSE(std::filesystem::exists(path));
  ::close(lock);
  writer.join();
  CHECK(done);
  CHECK(OpenFileMaintRecords(path)->List().value().size() == 1);
}

TEST_CASE("two threads each putting 50 records lose none", "[maint]") {
  TempDir dir;
  std::string path = dir.path() + "/maintenance.toml";
  auto put_50 = [&](std::string pool) {
    auto records = OpenFileMaintRecords(path);
    for (int i = 0; i < 50; ++i) CHECK(records->Put(Record(pool, "db" + std::to_string(i))));
  };
  std::thread a(put_50, "a");
  std::thread b(put_50, "b");
  a.join();
  b.join();
  CHECK(OpenFileMaintRecords(path)->List().value().size() == 100);
}

TEST_CASE("two processes each putting 50 records lose none", "[maint]") {
  TempDir dir;
  std::string path = dir.path() + "/maintenance.toml";
  std::vector<pid_t> children;
  for (std::string pool : {"a", "b"}) {
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      auto records = OpenFileMaintRecords(path);
      bool ok = true;
      for (int i = 0; i < 50; ++i) ok = ok && records->Put(Record(pool, "db" + std::to_string(i)));
      ::_exit(ok ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    REQUIRE(::waitpid(pid, &status, 0) == pid);
    CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  }
  auto list = OpenFileMaintRecords(path)->List();
  REQUIRE(list);
  CHECK(list.value().size() == 100);
}

TEST_CASE("random puts and removes agree with a std::map", "[maint]") {
  // Given 100 random operations on 12 keys, expect List to equal the model
  // after each one.
  TempDir dir;
  auto records = OpenFileMaintRecords(dir.path() + "/maintenance.toml");
  std::map<std::pair<std::string, std::string>, MaintRecord> model;
  std::mt19937 rng(20261125);
  for (int step = 0; step < 100; ++step) {
    MaintRecord r = Record(rng() % 2 ? "main" : "archive", "db" + std::to_string(rng() % 6));
    if (rng() % 3 == 0) {
      REQUIRE(records->Remove(r.pool, r.server));
      model.erase({r.pool, r.server});
    } else {
      r.reason = "step " + std::to_string(step);
      REQUIRE(records->Put(r));
      model[{r.pool, r.server}] = r;
    }
    auto list = records->List().value();
    REQUIRE(list.size() == model.size());
    size_t i = 0;
    for (const auto& [key, expected] : model) REQUIRE(Same(list[i++], expected));
  }
}

}  // namespace caretaker
