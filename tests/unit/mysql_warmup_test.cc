// Innodb_buffer_pool_load_status read into a warm-up state: InnoDB's own
// texts (buf0dump.cc) as MariaDB 10.11 and MySQL 8 write them, without a server.
#include <catch2/catch.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "mysql/warmup.h"

namespace caretaker::mysql {
namespace {

using State = BufferPoolLoad::State;

struct Case {
  std::string text;
  State state;
  uint64_t loaded = 0, total = 0;
};

TEST_CASE("buffer-pool load status: one state per server text", "[mysql][warmup]") {
  // given the status value / expect the state (and page counts when loading)
  const std::vector<Case> cases = {
      // What a fresh sandbox replica says (mariadb-install-db leaves a dump).
      {"Buffer pool(s) load completed at 261125  7:07:13", State::kCompleted},
      {"Buffer pool(s) load completed at 240102 13:45:01", State::kCompleted},
      {"Buffer pool(s) load completed at 240102 13:45:01 (/var/lib/mysql/ib_buffer_pool was empty)",
       State::kCompleted},
      {"Buffer pool(s) load completed at 240102 13:45:01 (/var/lib/mysql/ib_buffer_pool was empty or had errors)",
       State::kCompleted},
      {"Loaded 123/4567 pages", State::kLoading, 123, 4567},
      {"Loaded 1/1 pages", State::kLoading, 1, 1},
      {"Loaded 18446744073709551615/18446744073709551615 pages", State::kLoading, 18446744073709551615ull,
       18446744073709551615ull},
      // MariaDB 10.11 writes no page counts: this text lasts the whole load.
      {"Loading buffer pool(s) from /var/lib/mysql/ib_buffer_pool", State::kLoading},
      {"Cannot open '/var/lib/mysql/ib_buffer_pool' for reading: No such file or directory", State::kNothingToLoad},
      {"Cannot open '/data/ib_buffer_pool' for reading: Permission denied", State::kNothingToLoad},
      {"Buffer pool(s) load aborted on request", State::kAborted},
      {"Buffer pool(s) load aborted due to user instigated abort at 240102 13:45:01", State::kAborted},
      {"Buffer pool(s) load aborted due to shutdown at 240102 13:45:01", State::kAborted},
      {"Error parsing '/var/lib/mysql/ib_buffer_pool', unable to load buffer pool (stage 2)", State::kAborted},
      {"Error reading '/var/lib/mysql/ib_buffer_pool', unable to load buffer pool (stage 1)", State::kAborted},
      {"Error parsing '/x': bogus space,page 1,2 at line 3, unable to load buffer pool", State::kAborted},
      {"Cannot allocate 12 MiB: Cannot allocate memory", State::kAborted},
      {"Loading of buffer pool not started", State::kNotStarted},  // MySQL 8 before the load
      {"not started", State::kNotStarted},                         // MySQL 5.7
      {"", State::kNotStarted},                                    // MariaDB before the load
      {"  Buffer pool(s) load completed at 240102 13:45:01\n", State::kCompleted},
      // Not a known text: unknown, never a guess.
      {"Loaded 5/4 pages", State::kUnknown},
      {"Loaded 12/ pages", State::kUnknown},
      {"Loaded 12/40 pages and more", State::kUnknown},
      {"Buffer pool(s) dump completed at 240102 13:45:01", State::kUnknown},
      {"something new in MariaDB 12", State::kUnknown},
  };
  for (const Case& c : cases) {
    INFO("'" << c.text << "'");
    const BufferPoolLoad load = ParseBufferPoolLoad(c.text);
    CHECK(load.state == c.state);
    CHECK(load.loaded == c.loaded);
    CHECK(load.total == c.total);
    CHECK(load.text == c.text);
  }
}

TEST_CASE("warm-up is done when completed or when there was nothing to load", "[mysql][warmup]") {
  // given a state / expect Done() and its name
  const std::vector<std::tuple<State, bool, std::string>> cases = {
      {State::kCompleted, true, "completed"},          {State::kNothingToLoad, true, "nothing to load"},
      {State::kLoading, false, "loading"},             {State::kNotStarted, false, "not started"},
      {State::kAborted, false, "aborted"},             {State::kUnknown, false, "unknown"},
  };
  for (const auto& [state, done, name] : cases) {
    INFO(name);
    BufferPoolLoad load;
    load.state = state;
    CHECK(load.Done() == done);
    CHECK(BufferPoolLoadStateName(state) == name);
  }
}

Rows StatusRows(std::vector<std::pair<std::string, std::optional<std::string>>> variables) {
  Rows rows;
  rows.columns = {"Variable_name", "Value"};
  for (auto& [name, value] : variables) rows.rows.push_back({name, value});
  return rows;
}

TEST_CASE("SHOW GLOBAL STATUS rows: the load status, or nothing", "[mysql][warmup]") {
  auto load = BufferPoolLoadFromRows(StatusRows({{"Innodb_buffer_pool_load_status", "Loaded 41/100 pages"}}));
  REQUIRE(load);
  CHECK(load->state == State::kLoading);
  CHECK(load->loaded == 41);
  // Case of the name does not matter (information_schema spells it upper case).
  CHECK(BufferPoolLoadFromRows(StatusRows({{"INNODB_BUFFER_POOL_LOAD_STATUS", ""}}))->state == State::kNotStarted);
  // No InnoDB: no row. A NULL value or another layout: unreadable.
  CHECK_FALSE(BufferPoolLoadFromRows(StatusRows({})));
  CHECK_FALSE(BufferPoolLoadFromRows(StatusRows({{"Innodb_buffer_pool_load_status", std::nullopt}})));
  Rows other;
  other.columns = {"Value"};
  other.rows = {{std::string("Buffer pool(s) load completed at 240102 13:45:01")}};
  CHECK_FALSE(BufferPoolLoadFromRows(other));
  CHECK(kBufferPoolLoadStatement == "SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_load_status'");
}

}  // namespace
}  // namespace caretaker::mysql
