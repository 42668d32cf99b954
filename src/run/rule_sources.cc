// See rule_sources.h.
#include "src/run/rule_sources.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
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
    // Workers take the next member until none is left; the last one to end
    // wakes this coroutine.
    size_t next = 0, running = 0;
    std::unique_ptr<Timer> done = SteadyClock().MakeTimer(io_);
    auto worker = [&]() -> Awaitable<void> {
      while (next < members.size()) {
        const size_t i = next++;
        auto one = ReadOne(rule, task, step, members[i]);
        out[i] = co_await std::move(one);
      }
      if (--running == 0) done->Cancel();
    };
    const size_t workers = std::min(concurrency_, members.size());
    running = workers;
    for (size_t w = 0; w < workers; ++w) asio::co_spawn(io_, worker(), asio::detached);
    if (running > 0) {  // (workers may all have ended already, inside co_spawn)
      auto wait = done->WaitUntil(SteadyTime::max());
      co_await std::move(wait);
    }
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

}  // namespace

std::unique_ptr<ConditionSource> MakeNagiosSource(StepRunner& steps, asio::io_context& io, size_t concurrency) {
  return std::make_unique<NagiosSource>(steps, io, concurrency);
}

}  // namespace caretaker
