// Notifications: what automation did, posted to the [[notify]] webhooks of
// the config (config.h NotifyConfig) as JSON — the event's kind, pool,
// server, job, rule, who, reason, and a Slack-compatible `text` line:
//
//   {"kind":"job.failed","at":"2026-12-04T18:00:00Z","id":"1733335200-7",
//    "pool":"replicas","server":"db2","job":12,"rule":"","who":"alice",
//    "reason":"kernel 6.1","text":"caretaker: job 12 on replicas failed: ..."}
//
// Emit() never blocks and never fails: the event is queued for every
// webhook whose filters pass (kinds, pools), and each webhook's deliverer
// posts its queue in order, one at a time, each attempt within the
// webhook's timeout, retried 1 s, 2 s, 4 s ... (at most 60 s) apart up to
// `retries` times; a delivery that never succeeded is logged
// (notify.failed) and counted, a queue past its bound drops its oldest
// event (notify.dropped). A hung or failing receiver delays only its own
// queue — never a walk, a rule or another webhook. The secret header's file
// is read at each delivery (a rotated secret is picked up) and never logged.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "src/base/async.h"
#include "src/config/config.h"
#include "src/store/maint_record.h"

namespace caretaker {

struct NotifyEvent {
  std::string kind;  // one of kNotifyKinds
  std::string pool, server, rule, who, reason;
  int64_t job = 0;   // 0: none
  std::string text;  // one line for a person: "caretaker: job 12 on replicas failed: ..."

  // `kind` of the host of `record`: its pool, server, who, reason and job.
  static NotifyEvent Of(std::string kind, const MaintRecord& record);
};

struct NotifyCounts {
  uint64_t queued = 0, delivered = 0, retried = 0, failed = 0, dropped = 0;
};

class Notifier {
 public:
  // Deliverers run on `io`, which outlives the notifier.
  Notifier(boost::asio::io_context& io, const std::vector<NotifyConfig>& targets);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // The webhooks of a reloaded config from now on; the ones before deliver
  // what they hold already, then end.
  void Configure(const std::vector<NotifyConfig>& targets);
  void Emit(NotifyEvent event);
  // serve stops: waits until every queue is empty, or `grace` has passed
  // (what is left is logged as dropped).
  Awaitable<void> Flush(Millis grace);
  NotifyCounts counts() const;

  // The JSON body of `event` (for tests and `--json` readers).
  static std::string Body(const NotifyEvent& event, const std::string& id, SysSeconds at);

 private:
  struct Target;
  boost::asio::io_context& io_;
  std::vector<std::shared_ptr<Target>> targets_;
  std::vector<std::shared_ptr<Target>> retiring_;  // replaced by a reload, still delivering
  std::shared_ptr<NotifyCounts> counts_;
  uint64_t next_id_ = 0;
  int64_t epoch_ = 0;  // the process' start, in the ids
};

}  // namespace caretaker
