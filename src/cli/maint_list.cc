// Renderings of the maintenance records: a table for people, JSON for scripts.
#include "src/cli/maint_list.h"

#include <algorithm>
#include <cstdio>

#include <boost/json.hpp>

#include "src/run/views.h"

namespace caretaker {
namespace {

using std::chrono::seconds;

constexpr const char* kRed = "\033[31m";
constexpr const char* kReset = "\033[0m";

// "45s", "20m", "2h", "2h15m", "3d", "3d4h": the two largest units, truncated.
std::string Age(seconds d) {
  int64_t s = d.count();
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m";
  if (s < 86400) {
    int64_t m = s % 3600 / 60;
    return std::to_string(s / 3600) + "h" + (m ? std::to_string(m) + "m" : "");
  }
  int64_t h = s % 86400 / 3600;
  return std::to_string(s / 86400) + "d" + (h ? std::to_string(h) + "h" : "");
}

// "2h ago" for a time at or before now, "in 2h" after it.
std::string Relative(SysSeconds t, SysSeconds now) {
  return t <= now ? Age(now - t) + " ago" : "in " + Age(t - now);
}

std::string UntilCell(const MaintRecord& r, SysSeconds now) {
  if (!r.until) return "-";
  return r.Expired(now) ? "EXPIRED " + Relative(*r.until, now) : Relative(*r.until, now);
}

// `text` on one line and inert in a terminal: C0 and C1 control characters
// and DEL escaped ("\n", "\t", "\x1b", "\u009b").
std::string OneLine(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    auto next = i + 1 < text.size() ? static_cast<unsigned char>(text[i + 1]) : 0;
    char buf[8];
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else if (c == 0xC2 && next >= 0x80 && next <= 0x9F) {
      std::snprintf(buf, sizeof buf, "\\u%04x", next);
      out += buf;
      ++i;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Columns on screen: one per code point (UTF-8 continuation bytes take none).
size_t Width(std::string_view text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::vector<std::string> Row(const MaintRecord& r, SysSeconds now) {
  return {OneLine(r.pool),   OneLine(r.server),       OneLine(r.host),    OneLine(r.phase),
          OneLine(r.who),    Relative(r.since, now),  UntilCell(r, now), OneLine(r.reason)};
}

std::string Line(const std::vector<std::string>& row, const std::vector<size_t>& width,
                 const char* until_color) {
  constexpr size_t kUntil = 6;
  std::string line;
  for (size_t i = 0; i < row.size(); ++i) {
    std::string cell = row[i];
    if (i + 1 < row.size()) cell += std::string(width[i] - Width(row[i]) + 2, ' ');
    line += i == kUntil && until_color ? until_color + cell + kReset : cell;
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line + "\n";
}

}  // namespace

std::string RenderMaintList(const std::vector<MaintRecord>& records, SysSeconds now, bool color) {
  if (records.empty()) return "no hosts in maintenance\n";
  std::vector<std::vector<std::string>> rows = {
      {"POOL", "SERVER", "HOST", "PHASE", "WHO", "SINCE", "UNTIL", "REASON"}};
  for (const MaintRecord& r : records) rows.push_back(Row(r, now));
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], Width(row[i]));
  }
  std::string out = Line(rows[0], width, nullptr);
  for (size_t i = 0; i < records.size(); ++i) {
    out += Line(rows[i + 1], width, color && records[i].Expired(now) ? kRed : nullptr);
  }
  return out;
}

std::string RenderMaintListJson(const std::vector<MaintRecord>& records, SysSeconds now) {
  boost::json::array list;
  for (const MaintRecord& r : records) list.push_back(RecordView(r, now));
  return JsonText(boost::json::object{{"now", FormatUtc(now)}, {"maintenance", std::move(list)}});
}

}  // namespace caretaker
