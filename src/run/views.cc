// See views.h.
#include "src/run/views.h"

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

}  // namespace caretaker
