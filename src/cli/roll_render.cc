// What plan and roll print: the plan of a pool, and the summary of a walk.
#include <sstream>

#include "src/cli/roll_render.h"
#include "src/run/plan_view.h"

namespace caretaker::roll_detail {
namespace {


// A failure in the few words a summary row gives it: its event line said it
// in full. What failed is what precedes the first ": " (the details follow).
std::string FailureBrief(const HostStatus& h) {
  const std::string first = h.detail.substr(0, h.detail.find('\n'));
  const std::string what = first.substr(0, first.find(": "));
  if (!h.may_be_in_traffic.empty()) return what + "; MAY BE IN TRAFFIC";
  return what + (h.restored ? "; back in traffic" : h.out_of_traffic ? "; out of traffic" : "");
}

}  // namespace

void RenderPlan(std::ostream& out, const PoolWalk& w, const WalkPlan& plan, const std::vector<std::string>& instances) {
  out << "pool " << w.pool->name << " (backend " << w.pool->backend << " on " << JoinNames(instances) << "): task \""
      << w.task->name << "\" on " << w.spec.members.size() << " of " << w.pool->members.size() << " members\n";
  for (const WalkPlan::CountedOut& c : plan.counted_out) out << "  " << Describe(c) << "\n";
  for (size_t i = 0; i < plan.waves.size(); ++i) {
    out << "  wave " << (i + 1) << ": " << JoinNames(plan.waves[i]) << "\n";
  }
  for (const std::string& s : plan.skipped) out << "  skipped: " << s << "\n";
  if (!plan.blocked.empty()) {
    out << "  CANNOT WALK NOW: " << plan.blocked << "\n"
        << "  not started: " << JoinNames(plan.not_started) << "\n";
  }
  for (const std::string& server : w.spec.members) {
    const MemberConfig* m = w.pool->FindMember(server);
    out << "  " << server << " (" << m->host << ":" << m->port << "), on " << JoinNames(instances) << ":\n";
    for (const std::string& c : PlanCommands(w, *m)) out << "    " << c << "\n";
  }
}

void RenderSummary(std::ostream& out, const PoolWalk& w, const Walker& walker, SteadyTime started) {
  size_t done = 0;
  std::vector<std::string> out_of_traffic, records_left;
  std::vector<std::pair<std::string, std::string>> may_be_in;  // server, why
  for (size_t i = 0; i < walker.hosts().size(); ++i) {
    const HostStatus& h = walker.hosts()[i];
    std::string result = h.phase == HostPhase::kDone      ? "done"
                         : h.phase == HostPhase::kPending ? "not started"
                         : h.phase == HostPhase::kFailed  ? "FAILED"
                         : h.phase == HostPhase::kStopped ? "stopped"
                                                          : HostPhaseName(h.phase);
    std::string took = h.started && h.ended ? HumanDuration(std::chrono::duration_cast<Millis>(*h.ended - *h.started)) : "";
    std::string detail = h.phase == HostPhase::kPending ? "" : h.phase == HostPhase::kFailed ? FailureBrief(h) : h.detail;
    if (h.phase == HostPhase::kDone) {
      std::vector<std::string> gates;
      for (const auto& [gate, t] : h.gates_passed) gates.push_back(std::string(GateName(gate)) + " " + HumanDuration(t));
      detail = gates.empty() ? "no gates" : "gates " + JoinNames(gates);
    }
    char row[160];
    std::snprintf(row, sizeof row, "  %-24s %-12s %-8s ", (w.pool->name + "/" + h.server).c_str(), result.c_str(),
                  took.c_str());
    out << row << detail.substr(0, detail.find('\n')) << "\n";
    if (h.phase == HostPhase::kFailed && h.detail.find('\n') != std::string::npos) {
      // What its step printed last.
      std::istringstream rest(h.detail.substr(h.detail.find('\n') + 1));
      for (std::string line; std::getline(rest, line);) out << "      " << line << "\n";
    }
    for (const std::string& note : h.notes) out << "      ! " << note << "\n";
    if (h.phase == HostPhase::kDone) ++done;
    if (h.out_of_traffic && h.may_be_in_traffic.empty()) out_of_traffic.push_back(h.server);
    if (!h.may_be_in_traffic.empty()) may_be_in.emplace_back(h.server, h.may_be_in_traffic);
    if (h.record && !h.out_of_traffic) records_left.push_back(h.server);
  }
  auto total = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started);
  out << "pool " << w.pool->name << ": " << done << " of " << walker.hosts().size() << " done in "
      << HumanDuration(total);
  if (!walker.stop_brief().empty()) out << "; stopped: " << walker.stop_brief();
  out << "\n";
  for (const std::string& s : out_of_traffic) {
    out << "OUT OF TRAFFIC: " << w.pool->name << "/" << s << " (its maintenance record is kept; "
        << "`caretaker maint stop " << w.pool->name << "/" << s << "` puts it back through the gates)\n";
  }
  for (const auto& [s, why] : may_be_in) {
    out << "MAY BE IN TRAFFIC: " << w.pool->name << "/" << s << " (" << why << "; its maintenance record is kept: "
        << "`caretaker status` shows where it stands, `caretaker maint stop " << w.pool->name << "/" << s
        << "` puts it back through the gates)\n";
  }
  for (const std::string& s : records_left) {
    out << "RECORD LEFT: " << w.pool->name << "/" << s << " is in traffic but its maintenance record is kept; "
        << "`caretaker maint stop " << w.pool->name << "/" << s << "` checks it and clears the record\n";
  }
}

}  // namespace caretaker::roll_detail
