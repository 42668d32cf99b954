// The HAProxy instances of a configuration, as runtime API clients.
#pragma once

#include <deque>
#include <string_view>
#include <vector>

#include "haproxy/client.h"
#include "src/config.h"

namespace caretaker {

class Fleet {
 public:
  static Fleet FromConfig(const Config& config);

  std::vector<const haproxy::Client*> All() const;
  // The clients of the instances that serve `pool`, in the pool's order.
  std::vector<const haproxy::Client*> For(const PoolConfig& pool) const;
  const haproxy::Client* Find(std::string_view name) const;

 private:
  std::deque<haproxy::Client> clients_;  // stable addresses
};

}  // namespace caretaker
