// What `caretaker serve` does about maintenance records past their end
// (`maint start --for`), decided without I/O: report each loudly when first
// seen and again every kExpiryReminder while it stays; where its pool says
// on_maint_expiry = "restore", put the host back through the gates — not
// while halted, one restore per host at a time, after a failed one not again
// before the next reminder, and after one a halt stopped once it is lifted. Records of jobs (no `until`) never expire.
#pragma once

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/store/maint_record.h"

namespace caretaker {

inline constexpr std::chrono::hours kExpiryReminder{1};

struct ExpiryAction {
  enum class Kind { kReport, kRestore };
  Kind kind = Kind::kReport;
  MaintRecord record;
  bool first = false;  // kReport: the first time this record is reported
};

class ExpiryWatch {
 public:
  std::vector<ExpiryAction> Tick(const Config& config, const std::vector<MaintRecord>& records, SysSeconds now,
                                 bool halted);
  // A restore Tick asked for has ended.
  enum class Ended { kBack, kFailed, kHalted };
  void RestoreEnded(const MaintRecord& record, Ended how, SysSeconds now);

 private:
  std::map<std::string, SysSeconds> reported_;  // record key -> last reported
  std::set<std::string> restoring_;
  std::map<std::string, SysSeconds> failed_;    // record key -> when its restore failed
};

}  // namespace caretaker
