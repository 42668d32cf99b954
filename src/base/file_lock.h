// An exclusive advisory lock (flock) on a file, held while the object lives:
// how caretaker processes on one machine keep out of each other's way. The
// kernel drops it when the process dies, so a crash never leaves it held.
#pragma once

#include <chrono>
#include <string>

#include "src/base/result.h"

namespace caretaker {

class FileLock {
 public:
  // Creates `path` (mode 0600) if needed and locks it, retrying every 50 ms
  // for up to `wait`. The error says who to wait for when it stays held.
  static Result<FileLock> Acquire(const std::string& path, std::chrono::milliseconds wait);

  // Whether some process holds the lock at `path` now (a missing file: no).
  // Tests with a shared lock, so two testers never fail each other; a
  // process taking the lock meanwhile waits for it (Acquire's `wait`).
  static bool Held(const std::string& path);

  FileLock(FileLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

// mkdir -p where every directory it creates gets mode 0700 (the state dir
// and what is under it). 0 or the errno of the mkdir that failed.
int MakePrivateDirs(const std::string& dir);

}  // namespace caretaker
