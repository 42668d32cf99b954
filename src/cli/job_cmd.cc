// See job_cmd.h.
#include "src/cli/job_cmd.h"

#include <boost/json.hpp>
#include <memory>

#include "src/cli/exit_code.h"
#include "src/run/job_actions.h"
#include "src/run/views.h"
#include "src/store/state_open.h"
#include "src/walk/job_run.h"

namespace caretaker {
namespace {

Result<std::unique_ptr<StateStore>> Open(const Config& config, const std::string& what) {
  return OpenStateStore(config, OperatorName() + " (caretaker " + what + ")");
}

size_t DoneCount(const Job& job) {
  size_t done = 0;
  for (const JobHost& h : job.hosts) done += h.phase == "done";
  return done;
}

std::string OptTime(const std::optional<SysSeconds>& t) { return t ? FormatUtc(*t) : "-"; }

// The store and job `id`, for `caretaker job WHAT ID`.
struct Opened {
  std::unique_ptr<StateStore> store;
  Job job;
};
Result<Opened> OpenJob(const Config& config, const std::string& what, int64_t id) {
  auto store = Open(config, what);
  if (!store) return store.error();
  auto found = store.value()->FindJob(id);
  if (!found) return found.error();
  if (!found.value()) {
    return Error{"there is no job " + std::to_string(id) + " (`caretaker jobs` lists them)", ErrorKind::kUsage};
  }
  return Opened{std::move(store).value(), std::move(*found.value())};
}

// Each host out of traffic as its record says (the truth: written before
// every change, removed once the host is back), not as the walk last wrote.
void MarkOut(const StateStore& store, Job& job) {
  if (auto records = store.List(); records) MarkOutFromRecords(records.value(), job);
}

// How an operator goes on with a job that holds its pool: the retry's own
// question when a plain retry would be refused, else the three commands.
std::string NextStep(const Config& config, const StateStore& store, const Job& job) {
  const TaskConfig* task = config.FindTask(job.task);
  auto records = store.List();
  if (task && records && job.state != "queued") {
    RetryPlan plan = PlanRetry(job, *task, records.value(), std::nullopt, true);
    if (!plan.refused.empty()) return "to go on: " + plan.refused;
  }
  return BlockedMessage(config, store, job);
}

}  // namespace

int RunJobs(const Config& config, bool json, const MaintIo& io) {
  auto opened = Open(config, "jobs");
  if (!opened) return Report(io.err, opened.error());
  std::unique_ptr<StateStore>& store = opened.value();
  auto jobs = store->ListJobs(50);
  if (!jobs) return Report(io.err, jobs.error());
  if (json) {
    boost::json::array list;
    for (Job& job : jobs.value()) {
      MarkOut(*store, job);
      list.push_back(JobView(config, *store, job));
    }
    io.out << JsonText(boost::json::object{{"jobs", std::move(list)}}) << "\n";
    return 0;
  }
  if (jobs.value().empty()) {
    io.out << "no jobs yet (`caretaker roll` runs one per pool)\n";
    return 0;
  }
  char line[512];
  std::snprintf(line, sizeof line, "%-5s %-16s %-12s %-10s %-6s %-20s %s\n", "ID", "POOL", "TASK", "STATE", "DONE",
                "CREATED", "WHO");
  io.out << line;
  for (const Job& job : jobs.value()) {
    std::string done = std::to_string(DoneCount(job)) + "/" + std::to_string(job.hosts.size());
    std::snprintf(line, sizeof line, "%-5lld %-16s %-12s %-10s %-6s %-20s %s\n", static_cast<long long>(job.id),
                  job.pool.c_str(), job.task.c_str(), JobStateOf(config, *store, job).c_str(), done.c_str(),
                  FormatUtc(job.created).c_str(), job.who.c_str());
    io.out << line;
  }
  return 0;
}

int RunJobShow(const Config& config, int64_t id, bool json, const MaintIo& io) {
  auto opened = OpenJob(config, "job show", id);
  if (!opened) return Report(io.err, opened.error());
  std::unique_ptr<StateStore>& store = opened.value().store;
  Job* job = &opened.value().job;
  MarkOut(*store, *job);
  if (json) {
    io.out << JsonText(JobView(config, *store, *job)) << "\n";
    return 0;
  }
  const std::string state = JobStateOf(config, *store, *job);
  io.out << "job " << job->id << ": pool " << job->pool << ", task " << job->task << ", " << state << "\n"
         << "  by " << job->who << " (" << job->reason << "), created " << FormatUtc(job->created) << ", started "
         << OptTime(job->started) << ", ended " << OptTime(job->ended) << "\n";
  if (!job->detail.empty()) io.out << "  " << job->detail << "\n";
  if (state == "orphaned") io.out << "  its process (" << job->owner << ") died while it ran\n";
  // What holds the pool, and how to go on.
  if (auto head = PoolHead(*store, job->pool); head && head.value() && head.value()->id == job->id &&
                                               state != "running") {
    io.out << "  " << NextStep(config, *store, *job) << "\n";
  }
  for (const JobHost& h : job->hosts) {
    std::string phase = h.phase == "step" ? "step " + std::to_string(h.step + 1) : h.phase;
    io.out << "  " << h.server << "  " << phase << (h.out_of_traffic ? "  OUT OF TRAFFIC" : "")
           << (h.detail.empty() ? "" : "  " + h.detail) << "\n";
  }
  return 0;
}

int RunJobCancel(const Config& config, int64_t id, const MaintIo& io) {
  auto store = Open(config, "job cancel");
  if (!store) return Report(io.err, store.error());
  auto cancelled = CancelJob(config, *store.value(), id, OperatorName());
  if (!cancelled) return Report(io.err, cancelled.error());
  io.out << cancelled.value().text << "\n";
  for (const MaintRecord& r : cancelled.value().left_out) io.err << "caretaker: " << LeftOutSentence(r) << "\n";
  return 0;
}

int RunJobRestore(const Config& config, int64_t id, const MaintIo& io) {
  auto opened = OpenJob(config, "job restore", id);
  if (!opened) return Report(io.err, opened.error());
  std::unique_ptr<StateStore>& store = opened.value().store;
  Job* job = &opened.value().job;
  if (std::optional<Error> no = RestoreRefused(config, *store, *job)) return Report(io.err, *no);
  std::vector<MaintRecord> out = JobLeftOut(*store, *job);
  std::vector<std::string> hosts;
  for (const MaintRecord& r : out) {
    io.err << "caretaker: putting " << r.pool << "/" << r.server << " back (it was left in " << r.phase << ")\n";
    hosts.push_back(r.pool + "/" + r.server);
  }
  // Each a walk of one member, all at once on one driver (as maint stop).
  int worst = RunPutBack(config, hosts, io);
  if (worst != 0) {
    io.err << "caretaker: job " << id << ": some hosts are still out of traffic (above); the job stays "
           << job->state << "\n";
    return worst;
  }
  const std::string detail = out.empty() ? "nothing was out of traffic" : std::to_string(out.size()) + " host(s) put back";
  if (auto no = EndJobAsRead(*store, *job, "restored", detail)) return Report(io.err, *no);
  BreakDeadLease(config, *store, job->pool);
  io.out << "job " << id << " restored: " << detail << "\n";
  return 0;
}

}  // namespace caretaker
