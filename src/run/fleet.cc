#include "src/run/fleet.h"

#include "src/base/log.h"

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

haproxy::ApplyOptions ApplyOptionsFor(const Config& config, const PoolConfig& pool, const std::string& server,
                                      const std::string& prefix) {
  haproxy::ApplyOptions options;
  options.unresponsive_deadline = config.haproxy_unresponsive_deadline;
  options.on_note = [pool = pool.name, server, prefix](const haproxy::ApplyNote& note) {
    const LogLevel level = note.kind == haproxy::ApplyNote::Kind::kGaveUp ? LogLevel::kError : LogLevel::kWarn;
    const std::string event = prefix + ".instance_" + haproxy::ApplyNoteKindName(note.kind);
    LogEvent(level, event,
             {{"pool", pool}, {"server", server}, {"instance", note.instance}, {"operation", note.operation},
              {"silent_ms", static_cast<int64_t>(note.silent.count())}, {"message", note.message}});
  };
  return options;
}

}  // namespace caretaker
