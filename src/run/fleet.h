// The HAProxy instances of a configuration, as runtime API clients.
#pragma once

#include <deque>
#include <string_view>
#include <vector>

#include "haproxy/backend_view.h"
#include "haproxy/client.h"
#include "src/config/config.h"

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

// How a change to `server` of `pool` rides out an HAProxy instance that stops
// answering: for up to [defaults] haproxy_unresponsive_deadline, each note
// logged as `<prefix>.instance_stalled`, `.instance_answered` or
// `.instance_gave_up` (prefix "roll" or "maint") naming the instance.
haproxy::ApplyOptions ApplyOptionsFor(const Config& config, const PoolConfig& pool, const std::string& server,
                                      const std::string& prefix);

}  // namespace caretaker
