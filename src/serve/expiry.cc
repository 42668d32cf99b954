// See expiry.h.
#include "src/serve/expiry.h"

namespace caretaker {
namespace {

// A record is one expiry: put again with another `until`, it is another.
std::string KeyOf(const MaintRecord& r) {
  return r.pool + "/" + r.server + "@" + std::to_string(r.until ? r.until->time_since_epoch().count() : 0);
}

}  // namespace

std::vector<ExpiryAction> ExpiryWatch::Tick(const Config& config, const std::vector<MaintRecord>& records,
                                            SysSeconds now, bool halted) {
  std::vector<ExpiryAction> out;
  std::set<std::string> seen;
  for (const MaintRecord& r : records) {
    if (!r.Expired(now)) continue;
    const std::string key = KeyOf(r);
    seen.insert(key);
    auto last = reported_.find(key);
    if (last == reported_.end() || now - last->second >= kExpiryReminder) {
      out.push_back(ExpiryAction{ExpiryAction::Kind::kReport, r, last == reported_.end()});
      reported_[key] = now;
    }
    const PoolConfig* pool = config.FindPool(r.pool);
    if (!pool || pool->on_maint_expiry != MaintExpiry::kRestore || halted || restoring_.count(key)) continue;
    auto failed = failed_.find(key);
    if (failed != failed_.end() && now - failed->second < kExpiryReminder) continue;
    restoring_.insert(key);
    out.push_back(ExpiryAction{ExpiryAction::Kind::kRestore, r, false});
  }
  // Records gone (put back, by anyone): forget them.
  std::erase_if(reported_, [&](const auto& p) { return !seen.count(p.first); });
  std::erase_if(failed_, [&](const auto& p) { return !seen.count(p.first); });
  return out;
}

void ExpiryWatch::RestoreEnded(const MaintRecord& record, Ended how, SysSeconds now) {
  const std::string key = KeyOf(record);
  restoring_.erase(key);
  if (how == Ended::kFailed) failed_[key] = now;  // kHalted: not a failure of the host
}

}  // namespace caretaker
