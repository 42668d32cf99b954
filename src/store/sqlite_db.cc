// See sqlite_db.h.
#include "src/store/sqlite_db.h"

#include <sqlite3.h>

namespace caretaker::sqlite {
namespace {

constexpr int kBusyTimeoutMs = 10000;  // another process's write transaction

// What a person can do about a SQLite error code.
std::string Hint(int code, const std::string& path) {
  switch (code & 0xff) {
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
      return "caretaker's user must be able to read and write " + path + " and its directory";
    case SQLITE_FULL: return "free space on the file system of " + path;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return "another caretaker process holds the store; retry";
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return path + " is not a caretaker state store (or is damaged); move it aside";
    default: return "check " + path;
  }
}

}  // namespace

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, bool create) {
  std::string name = path.empty() ? ":memory:" : path;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Db> db(new Db(raw, name));
  if (rc != SQLITE_OK) {
    std::string why = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return Error{"cannot open the state store " + name + ": " + why + " — " + Hint(rc, name)};
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  // WAL: readers never wait for the writer. synchronous=FULL: a committed
  // record is on disk (NORMAL in WAL mode may lose the last commits on power loss).
  auto mode = db->Query("PRAGMA journal_mode=WAL");
  if (!mode) return mode.error();
  auto setup = db->Exec("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;");
  if (!setup) return setup.error();
  return db;
}

Db::~Db() { sqlite3_close_v2(db_); }

Error Db::Fail(std::string_view what) const {
  int code = sqlite3_extended_errcode(db_);
  return Error{"state store " + path_ + ": " + std::string(what) + ": " + sqlite3_errmsg(db_) + " — " +
               Hint(code, path_)};
}

Result<void> Db::Exec(std::string_view sql) {
  char* message = nullptr;
  std::string text(sql);
  if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    sqlite3_free(message);
    return Fail("cannot run " + text.substr(0, text.find_first_of(" \n")));
  }
  return boost::outcome_v2::success();
}

Result<std::vector<Row>> Db::Query(std::string_view sql, const std::vector<Value>& params) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) != SQLITE_OK) {
    return Fail("cannot prepare a statement");
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> owned(stmt, sqlite3_finalize);
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& v = params[i];
    int at = static_cast<int>(i + 1);
    int rc = v.kind == Value::Kind::kInt    ? sqlite3_bind_int64(stmt, at, v.i)
             : v.kind == Value::Kind::kText ? sqlite3_bind_text(stmt, at, v.s.data(), static_cast<int>(v.s.size()),
                                                                SQLITE_TRANSIENT)
                                            : sqlite3_bind_null(stmt, at);
    if (rc != SQLITE_OK) return Fail("cannot bind a value");
  }
  std::vector<Row> rows;
  for (;;) {
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return Fail(sqlite3_stmt_readonly(stmt) ? "cannot read" : "cannot write");
    std::vector<Value> values;
    int n = sqlite3_column_count(stmt);
    for (int c = 0; c < n; ++c) {
      switch (sqlite3_column_type(stmt, c)) {
        case SQLITE_NULL: values.push_back(Value::Null()); break;
        case SQLITE_INTEGER: values.push_back(Value::Int(sqlite3_column_int64(stmt, c))); break;
        default: {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
          values.push_back(Value::Text(text ? std::string(text, sqlite3_column_bytes(stmt, c)) : ""));
        }
      }
    }
    rows.emplace_back(std::move(values));
  }
  return rows;
}

int64_t Db::LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
int Db::Changes() const { return sqlite3_changes(db_); }

Db::Transaction::~Transaction() {
  if (open_) (void)db_.Exec("ROLLBACK");
}

Result<void> Db::Transaction::Begin() {
  auto begun = db_.Exec("BEGIN IMMEDIATE");
  if (begun) open_ = true;
  return begun;
}

Result<void> Db::Transaction::Commit() {
  auto done = db_.Exec("COMMIT");
  if (done) open_ = false;
  return done;
}

}  // namespace caretaker::sqlite
