// See config_check.h.
#include "src/run/config_check.h"

namespace caretaker {
namespace {

std::string Count(size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string DescribePolicy(const PoolConfig& pool) {
  const policies::CapacityPolicy& c = pool.capacity;
  const size_t n = pool.members.size();
  auto resolved = [](size_t members, const policies::Limit& limit) {
    std::string text = std::to_string(members);
    return limit.kind == policies::Limit::Kind::kPercent ? text + " (" + limit.ToString() + ")" : text;
  };
  policies::PoolSnapshot healthy{pool.name, {}};
  for (const MemberConfig& m : pool.members) {
    healthy.members.push_back({m.server, policies::Member::State::kInService});
  }
  std::string out = "pool " + pool.name + ": " + Count(n, "member", "members") + ", min_in_service " +
                    resolved(policies::FloorCount(c.min_in_service, n), c.min_in_service);
  if (c.max_out) out += ", max_out " + resolved(policies::MaxOutCount(*c.max_out, n), *c.max_out);
  out += " — " + std::to_string(policies::Headroom(c, healthy)) + " may go out at a time";
  if (!c.count_unhealthy_as_out) out += " (down, lagging or unreachable members count as in service)";
  return out;
}

ConfigCheck CheckConfig(const Config& config) {
  ConfigCheck check;
  if (auto password = ReadMysqlPassword(config.mysql); !password) {
    check.errors.push_back(password.error().message);
    return check;
  }
  // Every pool whose policy can never work, not just the first.
  for (const PoolConfig& p : config.pools) {
    if (auto valid = CheckPoolPolicy(config, p); !valid) check.errors.push_back(valid.error().message);
  }
  if (!check.errors.empty()) return check;
  size_t members = 0;
  for (const PoolConfig& p : config.pools) members += p.members.size();
  check.summary = config.path + ": OK (" + Count(config.haproxy.size(), "HAProxy instance", "HAProxy instances") +
                  ", " + Count(config.pools.size(), "pool", "pools") + ", " + Count(members, "member", "members") + ")";
  for (const PoolConfig& p : config.pools) check.policies.push_back(DescribePolicy(p));
  return check;
}

}  // namespace caretaker
