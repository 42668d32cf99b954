// See views.h.
#include "src/run/views.h"

#include <algorithm>
#include <boost/json.hpp>

#include "src/walk/job_run.h"

namespace caretaker {

namespace json = boost::json;

namespace {

json::value OptTime(const std::optional<SysSeconds>& t) {
  if (!t) return nullptr;
  return json::value(FormatUtc(*t));
}

}  // namespace

std::string JobStateOf(const Config& config, const StateStore& store, const Job& job) {
  if (job.state == "running" && JobOwnerGone(config, store, job)) return "orphaned";
  return job.state;
}

void MarkOutFromRecords(const std::vector<MaintRecord>& records, Job& job) {
  for (JobHost& h : job.hosts) {
    h.out_of_traffic = false;
    for (const MaintRecord& r : records) {
      if (r.job == job.id && r.pool == job.pool && r.server == h.server) h.out_of_traffic = true;
    }
  }
}

json::object JobView(const Config& config, const StateStore& store, const Job& job) {
  json::object o;
  o["id"] = job.id;
  o["pool"] = job.pool;
  o["task"] = job.task;
  o["state"] = JobStateOf(config, store, job);
  o["who"] = job.who;
  o["reason"] = job.reason;
  o["owner"] = job.owner;
  o["detail"] = job.detail;
  o["created"] = FormatUtc(job.created);
  o["started"] = OptTime(job.started);
  o["ended"] = OptTime(job.ended);
  o["window"] = OptTime(job.window);
  o["cancel_requested"] = job.cancel_requested;
  // An operator asked serve to go on with it (the API's retry): who, or null.
  o["retry_asked_by"] = job.retry_by.empty() ? json::value(nullptr) : json::value(job.retry_by);
  int64_t done = 0;
  json::array hosts;
  for (const JobHost& h : job.hosts) {
    done += h.phase == "done";
    hosts.push_back(json::object{{"server", h.server},
                                 {"phase", h.phase},
                                 {"step", static_cast<int64_t>(h.step + 1)},
                                 {"detail", h.detail},
                                 {"out_of_traffic", h.out_of_traffic}});
  }
  o["done"] = done;
  o["hosts"] = std::move(hosts);
  return o;
}

json::object RecordView(const MaintRecord& r, SysSeconds now) {
  return json::object{{"pool", r.pool},     {"server", r.server}, {"host", r.host},
                      {"phase", r.phase},   {"who", r.who},       {"reason", r.reason},
                      {"since", FormatUtc(r.since)}, {"until", OptTime(r.until)}, {"expired", r.Expired(now)},
                      {"job", r.job}};
}

json::object AuditView(const AuditEntry& e) {
  json::object o{{"id", e.id},         {"at", FormatUtc(e.at)}, {"who", e.who},
                 {"action", e.action}, {"target", e.target},    {"detail", e.detail}};
  // How the change ended, when the entry says (an API request's, a walk's end).
  if (!e.result.empty()) o["result"] = e.result;
  if (!e.role.empty() || !e.request_id.empty()) {
    o["api"] = json::object{
        {"role", e.role}, {"remote", e.remote}, {"request_id", e.request_id}, {"result", e.result}};
  }
  return o;
}

json::object HaltView(const HaltCheck& check, const std::optional<HaltRecord>& record) {
  json::object o{{"halted", check.halted}, {"abort", check.abort}, {"why", check.why}};
  if (record) {
    o["record"] = json::object{{"who", record->who},
                               {"reason", record->reason},
                               {"since", FormatUtc(record->since)},
                               {"abort", record->abort}};
  } else {
    o["record"] = nullptr;
  }
  return o;
}

std::string JsonText(const json::object& value) { return json::serialize(value); }

size_t RuleActionsInWindow(const RuleConfig& r, const RuleMemory& memory, WallTime now) {
  return std::count_if(memory.actions.begin(), memory.actions.end(), [&](const RuleMemory::Action& a) {
    return a.kind != "repool" && a.at >= now - r.per;
  });
}

json::object RuleView(const RuleConfig& r, const RuleMemory& memory, const std::optional<RuleStatus>& status,
                      WallTime now) {
  json::object o{{"name", r.name},
                 {"source", RuleSourceName(r.source)},
                 {"when", r.when.text},
                 {"action", RuleActionName(r.action)},
                 {"mode", r.observe ? "observe" : "act"}};
  o["tripped"] = memory.tripped ? json::value(*memory.tripped) : json::value(nullptr);
  o["actions_in_window"] = static_cast<int64_t>(RuleActionsInWindow(r, memory, now));
  o["max_actions"] = r.max_actions;
  o["per"] = FormatDuration(r.per);
  json::array members;
  if (status) {
    o["last_evaluation"] = json::object{
        {"at", FormatUtc(status->at)}, {"took_ms", static_cast<int64_t>(status->took.count())}, {"error", status->error}};
    for (const RuleStatus::Member& m : status->members) {
      members.push_back(json::object{{"pool", m.pool},
                                     {"server", m.server},
                                     {"state", m.phase},
                                     {"since", m.since ? json::value(FormatUtc(*m.since)) : json::value(nullptr)},
                                     {"why", m.why}});
    }
  } else {
    o["last_evaluation"] = nullptr;
  }
  o["members"] = std::move(members);
  return o;
}

}  // namespace caretaker
