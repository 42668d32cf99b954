#include "tests/sandbox/mysql_session.h"

#include <errmsg.h>
#include <fcntl.h>
#include <mysql.h>

namespace caretaker::sandbox {

namespace {
constexpr unsigned kTimeoutSeconds = 5;
}  // namespace

bool MysqlSession::Open(uint16_t port, const std::string& password) {
  Close();
  mysql_ = mysql_init(nullptr);
  if (mysql_ == nullptr) return Failed(CR_OUT_OF_MEMORY, "mysql_init: out of memory");
  unsigned timeout = kTimeoutSeconds, protocol = MYSQL_PROTOCOL_TCP;
  mysql_options(mysql_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(mysql_, MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_options(mysql_, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  mysql_options(mysql_, MYSQL_OPT_PROTOCOL, &protocol);
  if (!mysql_real_connect(mysql_, "127.0.0.1", "caretaker", password.c_str(), nullptr, port, nullptr, 0)) {
    Failed(mysql_errno(mysql_), std::string("connect: ") + mysql_error(mysql_));
    Close();
    return false;
  }
  ::fcntl(mysql_get_socket(mysql_), F_SETFD, FD_CLOEXEC);
  opened_ = std::chrono::steady_clock::now();
  port_ = 0;
  return true;
}

uint16_t MysqlSession::QueryPort() {
  if (mysql_query(mysql_, "SELECT @@port") != 0) {
    Failed(mysql_errno(mysql_), std::string("SELECT @@port: ") + mysql_error(mysql_));
    return 0;
  }
  MYSQL_RES* res = mysql_store_result(mysql_);
  MYSQL_ROW row = res != nullptr ? mysql_fetch_row(res) : nullptr;
  uint16_t port = row != nullptr && row[0] != nullptr ? static_cast<uint16_t>(std::stoul(row[0])) : 0;
  if (res != nullptr) mysql_free_result(res);
  if (port == 0) {
    Failed(mysql_errno(mysql_), std::string("SELECT @@port: no row: ") + mysql_error(mysql_));
  } else {
    port_ = port;
  }
  return port;
}

void MysqlSession::Close() {
  if (mysql_ != nullptr) mysql_close(mysql_);
  mysql_ = nullptr;
}

bool MysqlSession::Failed(unsigned code, std::string text) {
  error_code_ = code;
  error_ = std::move(text) + " (" + std::to_string(code) + ")";
  return false;
}

}  // namespace caretaker::sandbox
