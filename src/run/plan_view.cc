// See plan_view.h.
#include "src/run/plan_view.h"

#include <boost/json.hpp>

#include "src/run/step_runner.h"

namespace caretaker::roll_detail {
namespace {

namespace json = boost::json;

json::array Strings(const std::vector<std::string>& items) {
  json::array out;
  for (const std::string& s : items) out.emplace_back(s);
  return out;
}

std::string GatesText(const GatesConfig& g) {
  if (g.off.mysqld) return "gates: all off (the task's gates_off)";
  std::vector<std::string> on, off;
  (g.off.replication ? off : on).push_back("replication");
  (g.off.catch_up ? off : on)
      .push_back("catch-up (" + std::string(g.gtid_wait ? "GTID wait, then " : "") + "lag <= " +
                 HumanDuration(g.max_lag) + " for " + std::to_string(g.catch_up_reads) + " reads)");
  (g.off.warmup ? off : on).push_back("warm-up");
  std::string text = "gates: mysqld, " + JoinNames(on);
  if (!off.empty()) text += "; off by the task: " + JoinNames(off);
  return text;
}

std::string Where(const TaskConfig& task, const MemberConfig& member) {
  if (task.transport == StepTransport::kLocal) return "local";
  return "ssh " + (task.ssh.user.empty() ? "" : task.ssh.user + "@") + member.host + ":" + std::to_string(task.ssh.port);
}

}  // namespace

std::vector<std::string> PlanCommands(const PoolWalk& w, const MemberConfig& m) {
  const std::string target = w.pool->backend + "/" + m.server;
  const DrainConfig& d = w.spec.drain;
  bool shutdown = w.spec.force_sessions || d.on_timeout == DrainTimeoutAction::kShutdownSessions;
  std::vector<std::string> out;
  out.push_back("set server " + target + " state drain; then wait for 0 sessions, at most " + HumanDuration(d.deadline) +
                (shutdown ? ", then shutdown sessions server " + target : ", then give up and restore"));
  out.push_back("set server " + target + " state maint");
  for (size_t i = 0; i < w.task->steps.size(); ++i) {
    const StepConfig& step = w.task->steps[i];
    out.push_back("step " + std::to_string(i + 1) + "/" + std::to_string(w.task->steps.size()) + " \"" + step.name +
                  "\" (" + Where(*w.task, m) + ", timeout " + HumanDuration(step.timeout) +
                  (step.retries ? ", " + std::to_string(step.retries) + " retries" : "") +
                  "): " + ExpandStep(*w.task, step, *w.pool, m).display);
  }
  // The first ramp weight while still in MAINT, before the gates (a static
  // balance algorithm refuses it there).
  const std::vector<int>& ramp = w.spec.gates.weight_ramp;
  if (!ramp.empty()) out.push_back("set server " + target + " weight " + std::to_string(ramp.front()) + "%");
  out.push_back(GatesText(w.spec.gates));
  out.push_back("set server " + target + " state ready; then wait for UP");
  for (size_t i = 1; i < ramp.size(); ++i) {
    out.push_back("after " + HumanDuration(w.spec.gates.ramp_hold) + ": set server " + target + " weight " +
                  std::to_string(ramp[i]) + "%");
  }
  return out;
}

boost::json::object PlanView(const std::vector<PoolWalk>& walks, const std::vector<WalkPlan>& plans) {
  json::array pools;
  for (size_t i = 0; i < walks.size(); ++i) {
    const PoolWalk& w = walks[i];
    const WalkPlan& plan = plans[i];
    json::array waves, counted_out, members;
    for (const auto& wave : plan.waves) waves.push_back(Strings(wave));
    for (const WalkPlan::CountedOut& c : plan.counted_out) {
      counted_out.push_back(
          json::object{{"server", c.server}, {"state", policies::StateName(c.state)}, {"detail", c.detail}});
    }
    for (const std::string& server : w.spec.members) {
      const json::array commands = Strings(PlanCommands(w, *w.pool->FindMember(server)));
      members.push_back(json::object{{"server", server}, {"commands", commands}});
    }
    pools.push_back(json::object{{"pool", w.pool->name},
                                 {"backend", w.pool->backend},
                                 {"task", w.task->name},
                                 {"waves", std::move(waves)},
                                 {"skipped", Strings(plan.skipped)},
                                 {"counted_out", std::move(counted_out)},
                                 {"not_started", Strings(plan.not_started)},
                                 {"blocked", plan.blocked.empty() ? json::value(nullptr) : json::value(plan.blocked)},
                                 {"members", std::move(members)}});
  }
  return json::object{{"pools", std::move(pools)}};
}

}  // namespace caretaker::roll_detail
