// One blocking connection to a MySQL/MariaDB server over Connector/C.
//
// Contract: TCP is always used (never the Unix socket that "localhost" would
// mean), connect/read/write timeouts are always set, TLS (when asked) verifies
// the server certificate. Every call blocks the calling thread: use it from the
// probe pool (probe.h), never from the event loop. A Connection is movable, not
// copyable, and must not be used by two threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mysql/error.h"

struct st_mysql;  // MYSQL

namespace caretaker::mysql {

struct Tls {
  bool enabled = false;
  std::string ca_file;  // PEM bundle; empty = the system's default CAs
  bool verify_server_cert = true;
};

// Where and how to connect. Timeouts are whole seconds (Connector/C's unit).
struct Target {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string user;
  std::string password;
  std::chrono::seconds connect_timeout{3};
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  Tls tls;
};

// "host:port", how every message names the server.
std::string Where(const Target& target);

// A result set: column names, rows of nullable text cells.
struct Rows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;

  // Index of the first column named any of `names` (exact, case-sensitive).
  std::optional<size_t> Find(std::initializer_list<std::string_view> names) const;
};

// An owned MYSQL* (mysql_close on destruction).
struct HandleCloser {
  void operator()(st_mysql* m) const;
};
using Handle = std::unique_ptr<st_mysql, HandleCloser>;

// A fresh handle (mysql_init) with every option of `target` applied: TCP,
// timeouts, TLS. Separate from connecting so that tests can read the options
// back (mysql_get_optionv) without a server.
Result<Handle> NewHandle(const Target& target);

class Connection {
 public:
  // Connects (blocking). Errors name host:port and say what to do.
  static Result<Connection> Open(const Target& target);

  // Runs one statement and returns its rows (empty for statements without a
  // result set). Errors name the statement and the server.
  Result<Rows> Query(std::string_view sql);

  const std::string& where() const { return where_; }

 private:
  Connection(Handle mysql, const Target& target);
  // `started` is when the failed call began: a lost connection after the
  // read timeout is reported as the timeout.
  Error LastError(std::string_view doing, std::chrono::steady_clock::time_point started) const;

  Handle mysql_;
  std::string where_;
  std::string user_;
  std::chrono::seconds read_timeout_;
};

}  // namespace caretaker::mysql
