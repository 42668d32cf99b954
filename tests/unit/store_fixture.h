// What the state store's tests share: opening a store, and writing its file
// as another program (or an older caretaker) would.
#pragma once

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "src/store/state_store.h"

namespace caretaker::store_testing {

inline std::unique_ptr<StateStore> Open(const std::string& path) {
  auto store = OpenSqliteStore(path);
  REQUIRE(store);
  return std::move(store).value();
}

// Runs `sql` on the file directly, not through the store.
inline void RawExec(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

}  // namespace caretaker::store_testing
