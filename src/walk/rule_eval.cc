// See rule_eval.h.
#include "src/walk/rule_eval.h"

#include <cstdio>

#include "src/walk/gates.h"

namespace caretaker {
namespace {

using Is = Verdict::Is;
using Subject = Condition::Subject;

Verdict Holds(bool holds, std::string text) { return {holds ? Is::kHolds : Is::kNot, std::move(text)}; }
Verdict Unknown(std::string why) { return {Is::kUnknown, std::move(why)}; }

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// `is_bad` says which way the word reads: "stopped" holds when bad, "running" when not.
Verdict Word(const Condition& c, bool bad, const std::string& text) { return Holds(bad == c.is_bad, text); }

}  // namespace

Verdict Evaluate(const Condition& c, const ProbeFacts& f) {
  switch (c.subject) {
    case Subject::kMysqld:
      return Word(c, f.mysql_error.has_value(), f.mysql_error ? "mysqld unreachable: " + *f.mysql_error : "mysqld answers");
    case Subject::kCheck:
      if (c.label == "flapping") {
        if (!f.flapping) return Unknown("HAProxy's check cannot be read");
        return Word(c, *f.flapping, *f.flapping ? "check flapping: " + f.check_text : "check steady: " + f.check_text);
      }
      if (!f.check_up) return Unknown("HAProxy's check cannot be read");
      return Word(c, !*f.check_up, "check " + f.check_text);
    default:
      break;
  }
  if (f.mysql_error) return Unknown("mysqld unreachable: " + *f.mysql_error);
  if (!f.replica) return Unknown("no replica status");
  const mysql::ReplicaStatus& r = *f.replica;
  switch (c.subject) {
    case Subject::kLag: {
      if (!r.lag) return Unknown("lag unknown (Seconds_Behind_Master NULL)");
      const double seconds = static_cast<double>(r.lag->count()) / 1000.0;
      return Holds(c.Compare(seconds), "lag " + HumanDuration(*r.lag));
    }
    case Subject::kReplication: {
      if (r.io_thread == mysql::ThreadState::kUnknown || r.sql_thread == mysql::ThreadState::kUnknown) {
        return Unknown("replication threads unknown");
      }
      const bool stopped = !r.ThreadsRunning();
      std::string text = std::string("IO thread ") + (r.io_thread == mysql::ThreadState::kYes ? "Yes" : "No") +
                         ", SQL thread " + (r.sql_thread == mysql::ThreadState::kYes ? "Yes" : "No");
      if (!r.last_sql_error.empty()) text += ": " + r.last_sql_error;
      return Word(c, stopped, text);
    }
    case Subject::kBufferPool: {
      if (!r.warmup || r.warmup->state == mysql::BufferPoolLoad::State::kUnknown) {
        return Unknown("buffer pool load status unknown");
      }
      return Word(c, !r.warmup->Done(), "buffer pool " + std::string(mysql::BufferPoolLoadStateName(r.warmup->state)));
    }
    default:
      return Unknown(std::string("condition \"") + c.text + "\" is not one of the probe source");
  }
}

Verdict Evaluate(const Condition& c, const Result<PluginOutput>& ran) {
  if (!ran) return Unknown(ran.error().message);
  const PluginOutput& out = ran.value();
  if (c.subject == Subject::kState) {
    const std::string text = std::string(NagiosStateName(out.state)) + (out.text.empty() ? "" : ": " + out.text);
    if (out.state == NagiosState::kUnknown) return Unknown(text);
    return Holds(c.Compare(static_cast<double>(out.state)), text);
  }
  if (c.subject == Subject::kPerf) {
    const PerfValue* p = out.Find(c.label);
    if (!p) return Unknown("no perfdata '" + c.label + "' in the plugin's output");
    if (!p->value) return Unknown("'" + c.label + "'=U");
    return Holds(c.Compare(*p->value), "'" + c.label + "'=" + Number(*p->value) + p->uom);
  }
  return Unknown(std::string("condition \"") + c.text + "\" is not one of the nagios source");
}

Verdict Negated(const Verdict& v) {
  if (v.is == Is::kUnknown) return v;
  return {v.is == Is::kHolds ? Is::kNot : Is::kHolds, v.text};
}

}  // namespace caretaker
