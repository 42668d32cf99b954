#include "src/fleet.h"

namespace caretaker {

Fleet Fleet::FromConfig(const Config& config) {
  Fleet fleet;
  for (const HaproxyConfig& h : config.haproxy) {
    fleet.clients_.emplace_back(haproxy::Instance{h.name, h.endpoint, h.connect_timeout, h.reply_timeout});
  }
  return fleet;
}

std::vector<const haproxy::Client*> Fleet::All() const {
  std::vector<const haproxy::Client*> all;
  for (const haproxy::Client& c : clients_) all.push_back(&c);
  return all;
}

std::vector<const haproxy::Client*> Fleet::For(const PoolConfig& pool) const {
  std::vector<const haproxy::Client*> out;
  for (const std::string& name : pool.haproxy) {
    if (const haproxy::Client* c = Find(name)) out.push_back(c);
  }
  return out;
}

const haproxy::Client* Fleet::Find(std::string_view name) const {
  for (const haproxy::Client& c : clients_) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

}  // namespace caretaker
