// One MySQL client session of the harness: Connector/C over TCP to
// 127.0.0.1:port as user `caretaker` (an HAProxy frontend or a replica),
// 5 s connect/read/write timeouts, and `SELECT @@port` on it: the replica
// that answered. Used by the load generator (load.h), the demo and the
// benchmarks. Its socket is close-on-exec once connected, so a process
// spawned later does not keep the session open on HAProxy after Close().
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

struct st_mysql;

namespace caretaker::sandbox {

class MysqlSession {
 public:
  MysqlSession() = default;
  ~MysqlSession() { Close(); }
  MysqlSession(const MysqlSession&) = delete;
  MysqlSession& operator=(const MysqlSession&) = delete;

  // Connects (closing a session already open); false on failure, with
  // error_code()/error() saying why.
  bool Open(uint16_t port, const std::string& password);
  // The replica's port, or 0 on failure (error_code()/error() say why).
  uint16_t QueryPort();
  void Close();

  bool is_open() const { return mysql_ != nullptr; }
  std::chrono::steady_clock::duration Age() const { return std::chrono::steady_clock::now() - opened_; }
  uint16_t last_port() const { return port_; }  // of the last query that succeeded
  unsigned error_code() const { return error_code_; }
  const std::string& error() const { return error_; }

 private:
  bool Failed(unsigned code, std::string text);

  st_mysql* mysql_ = nullptr;
  std::chrono::steady_clock::time_point opened_;
  uint16_t port_ = 0;
  unsigned error_code_ = 0;
  std::string error_;
};

}  // namespace caretaker::sandbox
