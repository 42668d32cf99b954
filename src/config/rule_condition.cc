// The rule condition language (rule_config.h): conditions of each source,
// Alertmanager's label matchers, and the names of sources and actions.
#include <cctype>
#include <charconv>
#include <cmath>
#include <regex>
#include <string>
#include <vector>

#include "src/config/config_reader.h"

namespace caretaker {
namespace {

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i >= text.size()) break;
    size_t start = i;
    if (text[i] == '\'') {
      // 'a quoted label', '' a quote inside it: one word, quotes kept.
      ++i;
      while (i < text.size()) {
        if (text[i] == '\'' && (i + 1 >= text.size() || text[i + 1] != '\'')) break;
        i += text[i] == '\'' ? 2 : 1;
      }
      ++i;
    } else {
      while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    }
    out.push_back(text.substr(start, std::min(i, text.size()) - start));
  }
  return out;
}

std::optional<Condition::Op> OpOf(std::string_view w) {
  using Op = Condition::Op;
  if (w == ">") return Op::kGt;
  if (w == ">=") return Op::kGe;
  if (w == "<") return Op::kLt;
  if (w == "<=") return Op::kLe;
  if (w == "==") return Op::kEq;
  if (w == "!=") return Op::kNe;
  return std::nullopt;
}

std::optional<double> Number(std::string_view w) {
  if (!w.empty() && w[0] == '+') w.remove_prefix(1);
  double v = 0;
  auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), v, std::chars_format::fixed);
  if (ec != std::errc() || end != w.data() + w.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Error Bad(std::string_view text, const std::string& why) {
  return Error{"condition " + config_detail::Quote(text) + ": " + why, ErrorKind::kUsage};
}

// `SUBJECT is WORD` of the probe source: the word that holds when bad, and
// its opposite.
struct IsWords {
  std::string_view subject, bad, good;
  Condition::Subject kind;
};
constexpr IsWords kIs[] = {
    {"replication", "stopped", "running", Condition::Subject::kReplication},
    {"mysqld", "unreachable", "reachable", Condition::Subject::kMysqld},
    {"check", "down", "up", Condition::Subject::kCheck},
    {"check", "flapping", "steady", Condition::Subject::kCheck},
    {"buffer_pool", "cold", "warm", Condition::Subject::kBufferPool},
};

constexpr std::string_view kProbeForms =
    "lag OP DURATION, replication is stopped|running, mysqld is unreachable|reachable, check is "
    "down|up|flapping|steady, buffer_pool is cold|warm";
constexpr std::string_view kNagiosForms = "state OP ok|warning|critical, perf LABEL OP NUMBER";
constexpr std::string_view kValueForms = "value OP NUMBER";
constexpr std::string_view kAlertForms = "alert is firing|resolved";
constexpr std::string_view kOps = "> >= < <= == !=";

}  // namespace

const char* RuleSourceName(RuleSource source) {
  switch (source) {
    case RuleSource::kProbe: return "probe";
    case RuleSource::kNagios: return "nagios";
    case RuleSource::kPrometheus: return "prometheus";
    case RuleSource::kGraphite: return "graphite";
    case RuleSource::kAlertmanager: return "alertmanager";
  }
  return "probe";
}

const char* RuleActionName(RuleAction action) {
  switch (action) {
    case RuleAction::kDepool: return "depool";
    case RuleAction::kTask: return "task";
    case RuleAction::kNotify: return "notify";
  }
  return "depool";
}

Result<AlertMatcher> ParseAlertMatcher(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Error{"matcher " + config_detail::Quote(text) + ": " + why +
                     " (write NAME=\"VALUE\", NAME!=\"VALUE\", NAME=~\"REGEX\" or NAME!~\"REGEX\")",
                 ErrorKind::kUsage};
  };
  AlertMatcher m;
  m.text = std::string(text);
  std::string_view s = text;
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  size_t i = 0;
  while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) ++i;
  if (i == 0 || std::isdigit(static_cast<unsigned char>(s[0]))) return bad("no label name");
  m.name = std::string(s.substr(0, i));
  std::string_view rest = s.substr(i);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.starts_with("=~")) m.op = AlertMatcher::Op::kRe;
  else if (rest.starts_with("!~")) m.op = AlertMatcher::Op::kNre;
  else if (rest.starts_with("!=")) m.op = AlertMatcher::Op::kNe;
  else if (rest.starts_with("=")) m.op = AlertMatcher::Op::kEq;
  else return bad("no operator after " + config_detail::Quote(m.name));
  rest.remove_prefix(m.op == AlertMatcher::Op::kEq ? 1 : 2);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"') {
    rest = rest.substr(1, rest.size() - 2);
    // Alertmanager's unescaping: \" \\ and \n; any other backslash stays
    // (a regular expression's \d is \d).
    for (size_t k = 0; k < rest.size(); ++k) {
      if (rest[k] == '"') return bad("a quote inside the value is not escaped");
      if (rest[k] != '\\' || k + 1 == rest.size()) {
        m.value += rest[k];
        continue;
      }
      const char next = rest[++k];
      if (next == 'n') {
        m.value += '\n';
      } else {
        if (next != '"' && next != '\\') m.value += '\\';
        m.value += next;
      }
    }
  } else if (rest.find_first_of("\" ") == std::string_view::npos) {
    m.value = std::string(rest);  // unquoted, as Alertmanager also takes
  } else {
    return bad("the value's quotes are not closed");
  }
  if (m.op == AlertMatcher::Op::kRe || m.op == AlertMatcher::Op::kNre) {
    try {
      std::regex check(m.value, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return bad("the regular expression does not compile (" + std::string(e.what()) + ")");
    }
  }
  return m;
}

bool Condition::Compare(double value) const {
  switch (op) {
    case Op::kGt: return value > number;
    case Op::kGe: return value >= number;
    case Op::kLt: return value < number;
    case Op::kLe: return value <= number;
    case Op::kEq: return value == number;
    case Op::kNe: return value != number;
    case Op::kIs: return false;
  }
  return false;
}

Result<Condition> ParseCondition(std::string_view text, RuleSource source) {
  std::vector<std::string_view> w = Words(text);
  Condition c;
  c.text = std::string(text);
  const std::string forms(source == RuleSource::kProbe          ? kProbeForms
                          : source == RuleSource::kNagios       ? kNagiosForms
                          : source == RuleSource::kAlertmanager ? kAlertForms
                                                                : kValueForms);
  if (w.empty()) return Bad(text, "is empty; write one of: " + forms);
  if (source == RuleSource::kAlertmanager) {
    if (w.size() != 3 || w[0] != "alert" || w[1] != "is" || (w[2] != "firing" && w[2] != "resolved")) {
      return Bad(text, "not a condition of source \"alertmanager\"; write " + forms);
    }
    c.subject = Condition::Subject::kAlert;
    c.op = Condition::Op::kIs;
    c.is_bad = w[2] == "firing";
    c.label = "firing";
    return c;
  }
  if (source == RuleSource::kPrometheus || source == RuleSource::kGraphite) {
    const std::string name = RuleSourceName(source);
    if (w[0] != "value") return Bad(text, "not a condition of source \"" + name + "\"; write " + forms);
    if (w.size() != 3) return Bad(text, "expected value OP NUMBER, as in \"value > 30\"");
    auto op = OpOf(w[1]);
    if (!op) return Bad(text, config_detail::Quote(w[1]) + " is not one of " + std::string(kOps));
    std::string_view n = w[2];
    bool negative = !n.empty() && n[0] == '-';
    if (negative) n.remove_prefix(1);
    std::optional<double> v = Number(n);
    if (!v) return Bad(text, config_detail::Quote(w[2]) + " is not a number (the series' values have no unit here)");
    c.subject = Condition::Subject::kValue;
    c.op = *op;
    c.number = negative ? -*v : *v;
    return c;
  }
  if (source == RuleSource::kProbe) {
    if (w[0] == "lag") {
      if (w.size() != 3) return Bad(text, "expected lag OP DURATION, as in \"lag > 30s\"");
      auto op = OpOf(w[1]);
      if (!op) return Bad(text, config_detail::Quote(w[1]) + " is not one of " + std::string(kOps));
      std::optional<double> seconds = Number(w[2]);
      if (!seconds) {
        std::optional<Millis> d = ParseDuration(w[2]);
        if (!d) return Bad(text, config_detail::Quote(w[2]) + " is not a duration (\"30s\", \"500ms\", \"2m\")");
        seconds = static_cast<double>(d->count()) / 1000.0;
      }
      if (*seconds < 0) return Bad(text, "a lag is never below 0");
      c.subject = Condition::Subject::kLag;
      c.op = *op;
      c.number = *seconds;
      return c;
    }
    for (const IsWords& is : kIs) {
      if (w[0] != is.subject) continue;
      if (w.size() != 3 || w[1] != "is") {
        return Bad(text, "expected " + std::string(is.subject) + " is " + std::string(is.bad) + "|" +
                             std::string(is.good));
      }
      if (w[2] != is.bad && w[2] != is.good) continue;  // the next entry of the same subject
      c.subject = is.kind;
      c.op = Condition::Op::kIs;
      c.is_bad = w[2] == is.bad;
      c.label = std::string(is.bad);  // which test: "down" or "flapping" for check
      return c;
    }
    return Bad(text, "not a condition of source \"probe\"; write one of: " + forms);
  }
  if (w[0] == "state") {
    if (w.size() != 3) return Bad(text, "expected state OP ok|warning|critical, as in \"state >= critical\"");
    auto op = OpOf(w[1]);
    if (!op) return Bad(text, config_detail::Quote(w[1]) + " is not one of " + std::string(kOps));
    const std::string_view states[] = {"ok", "warning", "critical"};
    for (int i = 0; i < 3; ++i) {
      if (w[2] == states[i]) {
        c.subject = Condition::Subject::kState;
        c.op = *op;
        c.number = i;
        return c;
      }
    }
    return Bad(text, config_detail::Quote(w[2]) + " is not ok, warning or critical (UNKNOWN is never a state a "
                                                  "condition holds on: it counts as unknown)");
  }
  if (w[0] == "perf") {
    if (w.size() != 4) return Bad(text, "expected perf LABEL OP NUMBER, as in \"perf 'seconds behind master' > 60\"");
    std::string label(w[1]);
    if (label.size() >= 2 && label.front() == '\'' && label.back() == '\'') {
      std::string unquoted;
      for (size_t i = 1; i + 1 < label.size(); ++i) {
        unquoted += label[i];
        if (label[i] == '\'') ++i;  // '' is one quote
      }
      label = unquoted;
    } else if (label.front() == '\'') {
      return Bad(text, "the label's quote is not closed");
    }
    if (label.empty()) return Bad(text, "the perfdata label is empty");
    auto op = OpOf(w[2]);
    if (!op) return Bad(text, config_detail::Quote(w[2]) + " is not one of " + std::string(kOps));
    std::optional<double> n = Number(w[3]);
    if (!n) return Bad(text, config_detail::Quote(w[3]) + " is not a number (perfdata values have no unit here)");
    c.subject = Condition::Subject::kPerf;
    c.label = label;
    c.op = *op;
    c.number = *n;
    return c;
  }
  return Bad(text, "not a condition of source \"nagios\"; write one of: " + forms);
}

}  // namespace caretaker
