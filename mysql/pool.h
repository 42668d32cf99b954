// A small fixed set of threads for blocking Connector/C calls.
//
// Connector/C blocks; the event loop must not. Work posted here runs on one of
// `threads` threads, so probing 200 servers at once queues 200 pieces of work
// on, say, 4 threads instead of needing 200. probe.h turns a posted call into
// an awaitable. The destructor waits for queued work to finish: destroy the
// pool only when nothing awaits it any more.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace caretaker::mysql {

class BlockingPool {
 public:
  static constexpr size_t kDefaultThreads = 4;
  explicit BlockingPool(size_t threads = kDefaultThreads);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  size_t size() const { return size_; }
  // Runs `work` on a pool thread, later. `work` must not throw.
  void Post(std::function<void()> work);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  size_t size_;
};

}  // namespace caretaker::mysql
