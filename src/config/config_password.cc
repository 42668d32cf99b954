// The MySQL password and other secrets: read from a file that only its owner may access, or
// from an environment variable. The password never appears in a message.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "src/config/config.h"
#include "src/config/config_reader.h"

namespace caretaker {
namespace {

std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

Result<std::string> ReadFile(const std::string& path, const std::string& what, const std::string& create_hint) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    std::string fix = err == ENOENT ? " — create it (mode 600) with " + create_hint
                                    : " — caretaker's user must be able to read it";
    return Error{what + ": cannot read: " + std::strerror(err) + fix};
  }
  // fstat on the open descriptor: the mode checked is the mode of the file read.
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Error{what + ": cannot read: " + std::strerror(err)};
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error{what + " is not a regular file"};
  }
  if ((st.st_mode & 077) != 0) {
    // As ssh refuses a private key that others can read: the secret may
    // already have leaked, and the owner must notice.
    ::close(fd);
    return Error{what + " has mode " + OctalMode(st.st_mode) +
                 ", which gives group or others access; fix it with: chmod 600 " + path};
  }
  std::string password;
  int err = config_detail::ReadAll(fd, password);
  ::close(fd);
  if (err != 0) return Error{what + ": cannot read: " + std::strerror(err)};
  // One trailing newline (as `echo` writes it, "\r\n" included) is not part of it.
  if (password.ends_with("\r\n")) {
    password.resize(password.size() - 2);
  } else if (password.ends_with('\n')) {
    password.pop_back();
  }
  if (password.empty()) return Error{what + " is empty"};
  return password;
}

}  // namespace

Result<std::string> ReadSecretFile(const std::string& path, const std::string& what) {
  return ReadFile(path, what + " " + path, "the secret");
}

Result<std::string> ReadMysqlPassword(const MysqlConfig& mysql) {
  if (!mysql.password_file.empty()) {
    return ReadFile(mysql.password_file, "MySQL password file " + mysql.password_file + " (mysql.password_file)",
                    "the password of MySQL user mysql.user");
  }
  if (mysql.password_env.empty()) return std::string();
  const char* value = std::getenv(mysql.password_env.c_str());
  const std::string what = "environment variable " + mysql.password_env + " (mysql.password_env)";
  if (value == nullptr) return Error{what + " is not set"};
  if (*value == '\0') return Error{what + " is empty"};
  return std::string(value);
}

}  // namespace caretaker
