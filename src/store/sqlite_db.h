// A thin RAII layer over SQLite for the state store (sqlite_store.cc): one
// connection, prepared statements with bound parameters, and errors as
// Result values that name the database file. Nothing else includes sqlite3.h.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/result.h"

struct sqlite3;
struct sqlite3_stmt;

namespace caretaker::sqlite {

// One bound value: text, integer or NULL.
struct Value {
  enum class Kind { kNull, kInt, kText } kind = Kind::kNull;
  int64_t i = 0;
  std::string s;
  static Value Null() { return {}; }
  static Value Int(int64_t v) { return {Kind::kInt, v, {}}; }
  static Value Text(std::string v) { return {Kind::kText, 0, std::move(v)}; }
};

// One result row; columns by index, as selected.
class Row {
 public:
  explicit Row(std::vector<Value> values) : values_(std::move(values)) {}
  bool IsNull(size_t i) const { return values_.at(i).kind == Value::Kind::kNull; }
  int64_t Int(size_t i) const { return values_.at(i).i; }
  const std::string& Text(size_t i) const { return values_.at(i).s; }

 private:
  std::vector<Value> values_;
};

class Db {
 public:
  // Opens (creating when `create`) the database at `path` ("" or ":memory:":
  // in memory), in WAL mode with full fsync on commit and a busy timeout, so
  // several processes share it. The error names the file and what to fix.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more statements without parameters or results.
  Result<void> Exec(std::string_view sql);
  // Runs one statement with `params` bound to ?1, ?2, ...; returns its rows.
  Result<std::vector<Row>> Query(std::string_view sql, const std::vector<Value>& params = {});
  // The rowid of the last INSERT.
  int64_t LastInsertId() const;
  // Rows changed by the last statement.
  int Changes() const;

  // BEGIN IMMEDIATE (a writer from the start, so two writers never deadlock
  // on lock upgrade) .. COMMIT; rolled back unless Commit() was called.
  class Transaction {
   public:
    explicit Transaction(Db& db) : db_(db) {}
    Transaction(const Transaction&) = delete;
    ~Transaction();
    Result<void> Begin();
    Result<void> Commit();

   private:
    Db& db_;
    bool open_ = false;
  };

  const std::string& path() const { return path_; }

 private:
  Db(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Error Fail(std::string_view what) const;

  sqlite3* db_;
  std::string path_;
};

}  // namespace caretaker::sqlite
