// See alert_reply.h.
#include "src/walk/alert_reply.h"

#include <boost/json.hpp>
#include <charconv>
#include <regex>
#include <unordered_map>

#include "src/store/maint_record.h"
#include "src/walk/rule_eval.h"

namespace caretaker {
namespace {

namespace json = boost::json;

std::optional<int> Digits(std::string_view text, size_t at, size_t n) {
  if (at + n > text.size()) return std::nullopt;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

// At most `bytes` of `text`, cut before a UTF-8 character, never inside one.
std::string Prefix(std::string_view text, size_t bytes) {
  if (text.size() <= bytes) return std::string(text);
  while (bytes > 0 && (static_cast<unsigned char>(text[bytes]) & 0xC0) == 0x80) --bytes;
  return std::string(text.substr(0, bytes));
}

// Label values are matched by regular expressions on serve's loop:
// bounded, so a huge one costs little (real ones are far shorter).
constexpr size_t kMaxLabelValue = 4096;

std::string Field(size_t i, std::string_view name) { return "alerts[" + std::to_string(i) + "]." + std::string(name); }

const json::string* StringAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? &v->as_string() : nullptr;
}

Result<AlertNotice> ReadAlert(const json::value& v, size_t i) {
  if (!v.is_object()) return Error{"alerts[" + std::to_string(i) + "]: not an object"};
  const json::object& o = v.as_object();
  AlertNotice a;
  const json::string* status = StringAt(o, "status");
  if (!status || (*status != "firing" && *status != "resolved")) {
    return Error{Field(i, "status") + ": not \"firing\" or \"resolved\""};
  }
  a.firing = *status == "firing";
  const json::string* fingerprint = StringAt(o, "fingerprint");
  if (!fingerprint || fingerprint->empty()) return Error{Field(i, "fingerprint") + ": missing"};
  a.fingerprint = std::string(*fingerprint);
  const json::string* starts = StringAt(o, "startsAt");
  std::optional<WallTime> starts_at = starts ? ParseRfc3339(*starts) : std::nullopt;
  if (!starts_at) return Error{Field(i, "startsAt") + ": not an RFC 3339 time"};
  a.starts_at = *starts_at;
  if (const json::string* ends = StringAt(o, "endsAt")) {
    std::optional<WallTime> ends_at = ParseRfc3339(*ends);
    if (!ends_at) return Error{Field(i, "endsAt") + ": not an RFC 3339 time"};
    // Go's zero time: no end known.
    if (ends_at->time_since_epoch() > Millis(0)) a.ends_at = ends_at;
  }
  const json::value* labels = o.if_contains("labels");
  if (!labels || !labels->is_object()) return Error{Field(i, "labels") + ": not an object"};
  for (const auto& [name, value] : labels->as_object()) {
    if (!value.is_string()) return Error{Field(i, "labels") + "." + std::string(name) + ": not a string"};
    a.labels[std::string(name)] = Prefix(value.as_string(), kMaxLabelValue);
  }
  if (const json::value* notes = o.if_contains("annotations"); notes && notes->is_object()) {
    for (const char* key : {"summary", "description"}) {
      if (const json::string* s = StringAt(notes->as_object(), key); s && !s->empty()) {
        a.summary = Prefix(*s, 500);
        break;
      }
    }
  }
  return a;
}

// A matcher, compiled (a regular expression matches the whole value, as
// Alertmanager's are anchored).
struct Compiled {
  const AlertMatcher* m;
  std::optional<std::regex> re;
  bool Holds(const std::map<std::string, std::string>& labels) const {
    auto it = labels.find(m->name);
    const std::string value = it == labels.end() ? "" : it->second;  // a missing label is ""
    switch (m->op) {
      case AlertMatcher::Op::kEq: return value == m->value;
      case AlertMatcher::Op::kNe: return value != m->value;
      case AlertMatcher::Op::kRe: return std::regex_match(value, *re);
      case AlertMatcher::Op::kNre: return !std::regex_match(value, *re);
    }
    return false;
  }
};

std::string Named(const AlertNotice& a) {
  auto it = a.labels.find("alertname");
  return it == a.labels.end() ? "alert " + a.fingerprint : it->second;
}

Verdict Firing(const Condition& c, bool firing, std::string text) {
  const bool holds = c.is_bad ? firing : !firing;
  return {holds ? Verdict::Is::kHolds : Verdict::Is::kNot, std::move(text)};
}

}  // namespace

std::optional<WallTime> ParseRfc3339(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  auto y = Digits(t, 0, 4), mo = Digits(t, 5, 2), d = Digits(t, 8, 2);
  auto h = Digits(t, 11, 2), mi = Digits(t, 14, 2), s = Digits(t, 17, 2);
  if (!y || !mo || !d || !h || !mi || !s || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  size_t i = 19;
  int64_t ms = 0;
  if (i < t.size() && t[i] == '.') {
    size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (i - start < 3) ms = ms * 10 + (t[i] - '0');
      ++i;
    }
    if (i == start) return std::nullopt;
    for (size_t k = i - start; k < 3; ++k) ms *= 10;
  }
  int offset_min = 0;
  if (i < t.size() && (t[i] == 'Z' || t[i] == 'z')) {
    ++i;
  } else if (i < t.size() && (t[i] == '+' || t[i] == '-')) {
    auto oh = Digits(t, i + 1, 2), om = Digits(t, i + 4, 2);
    if (!oh || !om || t[i + 3] != ':' || *oh > 23 || *om > 59) return std::nullopt;
    offset_min = (*oh * 60 + *om) * (t[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != t.size()) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*mo)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  WallTime at = std::chrono::time_point_cast<Millis>(std::chrono::sys_days(ymd)) + std::chrono::hours(*h) +
                std::chrono::minutes(*mi - offset_min) + std::chrono::seconds(*s) + Millis(ms);
  return at;
}

Result<AlertmanagerPayload> ParseAlertmanagerPayload(std::string_view body) {
  boost::system::error_code ec;
  json::value doc = json::parse(body, ec);
  if (ec || !doc.is_object()) return Error{"not one JSON object"};
  const json::object& o = doc.as_object();
  const json::string* version = StringAt(o, "version");
  if (!version || *version != "4") {
    return Error{"version: " + (version ? "\"" + std::string(*version) + "\"" : std::string("missing")) +
                 ", not \"4\" (Alertmanager's webhook payload)"};
  }
  AlertmanagerPayload p;
  if (const json::string* r = StringAt(o, "receiver")) p.receiver = std::string(*r);
  if (const json::string* g = StringAt(o, "groupKey")) p.group_key = std::string(*g);
  if (const json::value* t = o.if_contains("truncatedAlerts"); t && t->is_int64()) p.truncated = t->as_int64();
  const json::value* alerts = o.if_contains("alerts");
  if (!alerts || !alerts->is_array()) return Error{"alerts: not an array"};
  for (size_t i = 0; i < alerts->as_array().size(); ++i) {
    auto a = ReadAlert(alerts->as_array()[i], i);
    if (!a) return a.error();
    p.alerts.push_back(std::move(a).value());
  }
  return p;
}

std::vector<RuleMember> AlertmanagerVerdicts(const RuleConfig& rule, const std::vector<StoredAlert>& alerts,
                                             const std::vector<MonitoredMember>& members, WallTime now) {
  std::vector<Compiled> matchers;
  for (const AlertMatcher& m : rule.matchers) {
    Compiled c{&m, std::nullopt};
    if (m.op == AlertMatcher::Op::kRe || m.op == AlertMatcher::Op::kNre) c.re.emplace(m.value, std::regex::ECMAScript);
    matchers.push_back(std::move(c));
  }
  // label value -> the alerts the matchers select.
  // An alert is its fingerprint's latest startsAt: an older one still
  // firing lost its resolution (serve down past Alertmanager's retries) and
  // was replaced when the alert fired again.
  std::unordered_map<std::string, WallTime> latest;
  for (const StoredAlert& s : alerts) {
    auto [it, added] = latest.emplace(s.alert.fingerprint, s.alert.starts_at);
    if (!added && it->second < s.alert.starts_at) it->second = s.alert.starts_at;
  }
  std::unordered_map<std::string, std::vector<const StoredAlert*>> by_value;
  for (const StoredAlert& s : alerts) {
    if (s.alert.starts_at < latest.at(s.alert.fingerprint)) continue;
    bool selected = true;
    for (const Compiled& c : matchers) selected = selected && c.Holds(s.alert.labels);
    auto label = s.alert.labels.find(rule.label);
    if (selected && label != s.alert.labels.end()) by_value[label->second].push_back(&s);
  }
  std::vector<RuleMember> out(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    RuleMember& r = out[i];
    r.pool = members[i].pool->name;
    r.server = members[i].member->server;
    if (!members[i].read) continue;
    const std::string want = ExpandPlaceholders(rule.series_template, *members[i].pool, *members[i].member);
    const StoredAlert* firing = nullptr;
    const StoredAlert* stale = nullptr;
    const StoredAlert* resolved = nullptr;
    if (auto it = by_value.find(want); it != by_value.end()) {
      for (const StoredAlert* s : it->second) {
        const bool ended = !s->alert.firing || (s->alert.ends_at && *s->alert.ends_at <= now);
        if (ended) {
          if (!resolved || s->last_seen > resolved->last_seen) resolved = s;
        } else if (rule.alert_max_age > Millis(0) && now - s->last_seen > rule.alert_max_age) {
          stale = s;
        } else if (!firing || s->alert.starts_at < firing->alert.starts_at) {
          firing = s;
        }
      }
    }
    std::string text;
    Verdict::Is is = Verdict::Is::kNot;
    if (firing) {
      text = Named(firing->alert) + " firing since " + FormatUtc(firing->alert.starts_at) +
             (firing->alert.summary.empty() ? "" : ": " + firing->alert.summary);
    } else if (stale) {
      text = Named(stale->alert) + " firing, but Alertmanager has not sent it since " + FormatUtc(stale->last_seen) +
             " (max_age " + FormatDuration(rule.alert_max_age) + ")";
      is = Verdict::Is::kUnknown;
    } else if (resolved) {
      text = Named(resolved->alert) + " resolved" +
             (resolved->alert.ends_at ? " at " + FormatUtc(*resolved->alert.ends_at) : std::string());
    } else {
      text = "no alert with " + rule.label + "=\"" + want + "\"";
    }
    if (is == Verdict::Is::kUnknown) {
      r.when = r.clear = {is, text};
      continue;
    }
    r.when = Firing(rule.when, firing != nullptr, text);
    r.clear = rule.clear ? Firing(*rule.clear, firing != nullptr, text) : Negated(r.when);
  }
  return out;
}

}  // namespace caretaker
