#include "src/base/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

namespace caretaker {

Result<FileLock> FileLock::Acquire(const std::string& path, std::chrono::milliseconds wait) {
  // Missing directories are made 0700, like the state dir itself.
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (int err = MakePrivateDirs(dir)) return Error{"cannot create " + dir + ": " + std::strerror(err)};
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Error{"cannot open the lock file " + path + ": " + std::strerror(errno)};
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK || std::chrono::steady_clock::now() >= deadline) {
      ::close(fd);
      if (err != EWOULDBLOCK) return Error{"cannot lock " + path + ": " + std::strerror(err)};
      return Error{"another caretaker command holds " + path + "; wait for it to finish (`fuser " + path +
                   "` names it)"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return FileLock(fd);
}

bool FileLock::Held(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  int rc;
  do {
    rc = ::flock(fd, LOCK_SH | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  const bool held = rc != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

int MakePrivateDirs(const std::string& dir) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    std::string part = dir.substr(0, slash);
    if (!part.empty() && ::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return errno;
    if (slash == std::string::npos) return 0;
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace caretaker
