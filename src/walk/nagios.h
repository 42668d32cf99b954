// What a Nagios plugin says, for rules that watch one (the Monitoring
// Plugins Development Guidelines): its state from the exit code, and its
// output `TEXT | PERFDATA`, long text on later lines, more perfdata after the
// first `|` there. Perfdata items are space separated:
// `'label'=value[UOM];[warn];[crit];[min];[max]` — a label with spaces quoted
// (`''` is a quote inside it), value `U` unknown, empty and trailing fields
// allowed. Pure; a malformed item is skipped and said, the rest still count.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/result.h"

namespace caretaker {

enum class NagiosState { kOk, kWarning, kCritical, kUnknown };
const char* NagiosStateName(NagiosState state);  // "OK", "WARNING", "CRITICAL", "UNKNOWN"
// 0 OK, 1 WARNING, 2 CRITICAL; 3 and anything else (a signal: -1) UNKNOWN.
NagiosState NagiosStateOf(int exit_code);

// A threshold range: `10` alerts outside 0..10, `10:` below 10, `~:10` above
// 10, `10:20` outside 10..20, `@10:20` inside it (ends inclusive).
struct NagiosRange {
  std::optional<double> low;   // nullopt: -infinity (`~`)
  std::optional<double> high;  // nullopt: +infinity (nothing after `:`)
  bool inside = false;         // `@`: alert inside the range, not outside

  static Result<NagiosRange> Parse(std::string_view text);
  bool Alerts(double value) const;
};

struct PerfValue {
  std::string label;
  std::optional<double> value;  // nullopt: `U`, the plugin could not tell
  std::string uom;              // "", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"
  std::optional<NagiosRange> warn, crit;
  std::optional<double> min, max;
};

struct PluginOutput {
  NagiosState state = NagiosState::kUnknown;
  std::string text;       // the first line before `|`, trimmed
  std::string long_text;  // the lines after it, before their `|`
  std::vector<PerfValue> perf;
  std::vector<std::string> problems;  // perfdata items that could not be read, each with why

  const PerfValue* Find(std::string_view label) const;
};

PluginOutput ParsePluginOutput(int exit_code, std::string_view output);
// The perfdata part alone; unreadable items go to `problems`.
std::vector<PerfValue> ParsePerfdata(std::string_view text, std::vector<std::string>& problems);

}  // namespace caretaker
