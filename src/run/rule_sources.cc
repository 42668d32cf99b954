// See rule_sources.h.
#include "src/run/rule_sources.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <deque>
#include <functional>
#include <map>
#include <string>

#include "src/walk/nagios.h"
#include "src/walk/rule_eval.h"

namespace caretaker {
namespace {

namespace asio = boost::asio;

constexpr size_t kMaxOutputLines = 200;  // a plugin's first line and perfdata come first

class NagiosSource : public ConditionSource {
 public:
  NagiosSource(StepRunner& steps, asio::io_context& io, size_t concurrency)
      : steps_(steps), io_(io), concurrency_(std::max<size_t>(1, concurrency)) {}

  Awaitable<std::vector<RuleMember>> Read(const RuleConfig& rule, const std::vector<WatchedMember>& members) override {
    std::vector<RuleMember> out(members.size());
    TaskConfig task;  // local, as a step of it
    task.name = "rule " + rule.name;
    StepConfig step;
    step.name = rule.name;
    step.argv = rule.argv;
    step.shell = rule.shell;
    step.timeout = rule.timeout;
    auto all = ForEachBounded(io_, members.size(), concurrency_, [&](size_t i) -> Awaitable<void> {
      auto one = ReadOne(rule, task, step, members[i]);
      out[i] = co_await std::move(one);
    });
    co_await std::move(all);
    co_return out;
  }

 private:
  Awaitable<RuleMember> ReadOne(const RuleConfig& rule, const TaskConfig& task, const StepConfig& step,
                                const WatchedMember& m) {
    RuleMember r;
    r.pool = m.pool->name;
    r.server = m.member->server;
    r.out = m.out;
    if (m.out == OutBy::kPerson || m.out == OutBy::kCaretaker) co_return r;  // not read: never touched
    StepCommand command = ExpandStep(task, step, *m.pool, *m.member);
    std::string output;
    size_t lines = 0;
    auto on_line = [&](std::string_view line) {
      if (++lines > kMaxOutputLines) return;
      output += std::string(line) + "\n";
    };
    auto run = steps_.Run(command, rule.timeout, on_line);
    StepResult result = co_await std::move(run);
    Result<PluginOutput> ran = Error{};
    using Outcome = StepResult::Outcome;
    if (result.outcome == Outcome::kSucceeded || result.outcome == Outcome::kExited) {
      ran = ParsePluginOutput(result.outcome == Outcome::kSucceeded ? 0 : result.exit_code, output);
    } else {
      std::string why = result.Describe(rule.timeout);
      if (result.outcome == Outcome::kCannotStart && !result.error.empty()) why += ": " + result.error;
      ran = Error{command.display + ": " + why};
    }
    r.when = Evaluate(rule.when, ran);
    r.clear = rule.clear ? Evaluate(*rule.clear, ran) : Negated(r.when);
    co_return r;
  }

  StepRunner& steps_;
  asio::io_context& io_;
  size_t concurrency_;
};

bool NeedsMysql(const Condition& c) { return c.subject != Condition::Subject::kCheck; }

class ProbeSource : public ConditionSource {
 public:
  ProbeSource(WalkIo& world, asio::io_context& io, size_t concurrency)
      : world_(world), io_(io), concurrency_(std::max<size_t>(1, concurrency)) {}

  Awaitable<std::vector<RuleMember>> Read(const RuleConfig& rule, const std::vector<WatchedMember>& members) override {
    const SteadyTime now = SteadyClock().Now();
    // HAProxy: one read per pool.
    std::map<std::string, Result<PoolView>> read_here;
    std::map<std::string, const Result<PoolView>*> views;
    std::vector<const PoolConfig*> pools;  // to read
    for (const WatchedMember& m : members) {
      if (views.count(m.pool->name)) continue;
      if (m.pool_view) {
        views[m.pool->name] = m.pool_view;
        continue;
      }
      auto [it, fresh] = read_here.emplace(m.pool->name, Error{"not read"});
      views[m.pool->name] = &it->second;
      pools.push_back(m.pool);
    }
    auto read = ForEachBounded(io_, pools.size(), concurrency_, [&](size_t i) -> Awaitable<void> {
      auto one = world_.Observe(*pools[i], false);
      read_here.at(pools[i]->name) = co_await std::move(one);
    });
    co_await std::move(read);
    std::vector<ProbeFacts> facts(members.size());
    std::vector<bool> skip(members.size(), false);
    for (size_t i = 0; i < members.size(); ++i) {
      const WatchedMember& m = members[i];
      skip[i] = m.out == OutBy::kPerson || m.out == OutBy::kCaretaker;
      const Result<PoolView>& view = *views.at(m.pool->name);
      if (!view) continue;
      for (const MemberView& v : view.value().members) {
        if (v.server != m.member->server) continue;
        facts[i].check_up = v.checked_up;
        facts[i].check_text = v.health;
        facts[i].flapping = Flapping(m.pool->name + "/" + v.server, v.checked_up, now, rule.flap_window);
      }
    }
    // MySQL, when a condition needs it.
    const bool mysql = NeedsMysql(rule.when) || (rule.clear && NeedsMysql(*rule.clear));
    if (mysql) {
      auto all = ForEachBounded(io_, members.size(), concurrency_, [&](size_t i) -> Awaitable<void> {
        if (skip[i]) co_return;
        auto probe = world_.Probe(*members[i].pool, *members[i].member);
        mysql::Result<mysql::ReplicaStatus> got = co_await std::move(probe);
        if (got) facts[i].replica = got.value();
        else facts[i].mysql_error = got.error().message;
      });
      co_await std::move(all);
    }
    std::vector<RuleMember> out(members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      RuleMember& r = out[i];
      r.pool = members[i].pool->name;
      r.server = members[i].member->server;
      r.out = members[i].out;
      if (skip[i]) continue;  // not read: never touched
      const Result<PoolView>& view = *views.at(r.pool);
      r.when = Evaluate(rule.when, facts[i]);
      r.clear = rule.clear ? Evaluate(*rule.clear, facts[i]) : Negated(r.when);
      if (!view) {
        // HAProxy unreadable: what the check says is unknown, and so is the
        // member's place in traffic: nothing acts on a guess.
        const std::string why = "HAProxy cannot be read: " + view.error().message;
        r.when = {Verdict::Is::kUnknown, why};
        r.clear = {Verdict::Is::kUnknown, why};
      }
    }
    co_return out;
  }

 private:
  // Records the check as seen now; whether it changed twice within `window`.
  bool Flapping(const std::string& key, bool up, SteadyTime now, Millis window) {
    History& h = history_[key];
    if (!h.last || *h.last != up) {
      if (h.last) h.changes.push_back(now);
      h.last = up;
    }
    while (!h.changes.empty() && h.changes.front() < now - window) h.changes.pop_front();
    return h.changes.size() >= 2;
  }

  struct History {
    std::optional<bool> last;
    std::deque<SteadyTime> changes;
  };
  WalkIo& world_;
  asio::io_context& io_;
  size_t concurrency_;
  std::map<std::string, History> history_;
};

}  // namespace

// Workers take the next index until none is left; the last one to end wakes
// the caller.
Awaitable<void> ForEachBounded(asio::io_context& io, size_t n, size_t concurrency,
                               std::function<Awaitable<void>(size_t)> one) {
  size_t next = 0, running = 0;
  std::unique_ptr<Timer> done = SteadyClock().MakeTimer(io);
  auto worker = [&]() -> Awaitable<void> {
    while (next < n) {
      auto run = one(next++);
      co_await std::move(run);
    }
    if (--running == 0) done->Cancel();
  };
  const size_t workers = std::min(std::max<size_t>(1, concurrency), n);
  running = workers;
  for (size_t w = 0; w < workers; ++w) asio::co_spawn(io, worker(), asio::detached);
  if (running > 0) {  // (workers may all have ended already, inside co_spawn)
    auto wait = done->WaitUntil(SteadyTime::max());
    co_await std::move(wait);
  }
}

std::unique_ptr<ConditionSource> MakeProbeSource(WalkIo& world, asio::io_context& io, size_t concurrency) {
  return std::make_unique<ProbeSource>(world, io, concurrency);
}

std::unique_ptr<ConditionSource> MakeNagiosSource(StepRunner& steps, asio::io_context& io, size_t concurrency) {
  return std::make_unique<NagiosSource>(steps, io, concurrency);
}

}  // namespace caretaker
