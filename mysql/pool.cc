#include "mysql/pool.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

namespace caretaker::mysql {

struct BlockingPool::Impl {
  explicit Impl(size_t threads) : pool(threads) {}
  boost::asio::thread_pool pool;
};

BlockingPool::BlockingPool(size_t threads)
    : impl_(std::make_unique<Impl>(threads == 0 ? 1 : threads)), size_(threads == 0 ? 1 : threads) {}

BlockingPool::~BlockingPool() { impl_->pool.join(); }

void BlockingPool::Post(std::function<void()> work) { boost::asio::post(impl_->pool, std::move(work)); }

}  // namespace caretaker::mysql
