// Strict typed reading of toml++ tables; see config_reader.h.
#include "src/config/config_reader.h"

#include "haproxy/client.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>

namespace caretaker::config_detail {
namespace {

constexpr size_t kMaxQuoted = 80;  // longer values are shortened in messages
constexpr std::string_view kLimitForm = "a count of members like 3 or a percent of the pool like \"75%\"";
constexpr std::string_view kDurationHint = "expected a duration like \"500ms\", \"5s\" or \"2m\"";

bool IsBareKey(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-';
  });
}

// Optimal string alignment distance: Levenshtein plus adjacent transposition,
// so "prot" is one edit from "port".
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string FormatFloat(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  std::string text(buf, ec == std::errc() ? end : buf);
  // Keep "3306.0" looking like the float it was written as, not like 3306.
  if (text.find_first_of(".ein") == std::string::npos) text += ".0";
  return text;
}

std::string JoinKeys(std::initializer_list<std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

}  // namespace

void ErrorSink::Fail(const toml::source_region& where, std::string_view key_path,
                     std::string_view what) {
  if (error_) return;
  // A node built by the parser always has a position; 1:1 is the fallback.
  unsigned line = where.begin.line ? where.begin.line : 1;
  unsigned column = where.begin.column ? where.begin.column : 1;
  std::string message = file_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!key_path.empty()) message += std::string(key_path) + ": ";
  message += what;
  error_ = Error{std::move(message)};
}

std::string Child(std::string_view parent, std::string_view key) {
  std::string k = IsBareKey(key) ? std::string(key) : Quote(key);
  return parent.empty() ? k : std::string(parent) + "." + k;
}

std::string Index(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  bool shortened = text.size() > kMaxQuoted;
  for (char c : text.substr(0, kMaxQuoted)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", static_cast<unsigned char>(c));
      out += esc;
    } else {
      out += c;
    }
  }
  return out + (shortened ? "...\"" : "\"");
}

std::string DescribeType(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

std::string ShowValue(const toml::node& node) {
  if (auto s = node.as_string()) return Quote(s->get());
  if (auto i = node.as_integer()) return std::to_string(i->get());
  if (auto f = node.as_floating_point()) return FormatFloat(f->get());
  if (auto b = node.as_boolean()) return b->get() ? "true" : "false";
  return DescribeType(node);
}

std::optional<std::string_view> NearestKey(std::string_view key,
                                           std::initializer_list<std::string_view> known) {
  // Close enough: one edit for short keys, up to two for longer ones.
  size_t limit = std::clamp<size_t>(key.size() / 3, 1, 2);
  std::optional<std::string_view> best;
  size_t best_distance = limit + 1;
  for (std::string_view k : known) {
    size_t d = EditDistance(key, k);
    if (d < best_distance) {
      best = k;
      best_distance = d;
    }
  }
  return best;
}

bool IsValidName(std::string_view name, NameChars chars) {
  // HAProxy's own rule is the client's; caretaker's names leave out ':'.
  if (chars == NameChars::kHaproxy) return haproxy::IsValidName(name);
  return haproxy::IsValidName(name) && name.find(':') == std::string_view::npos;
}

void TableReader::Fail(const toml::node* node, std::string_view key, std::string_view what) {
  sink_.Fail(node ? node->source() : table_.source(), PathOf(key), what);
}

void TableReader::CheckKeys(std::initializer_list<std::string_view> allowed) {
  // toml::table is ordered by key, not by position: report the unknown key
  // that comes first in the file, so the message matches what the user sees.
  const toml::key* first = nullptr;
  for (const auto& [key, value] : table_) {
    if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
    const auto& at = key.source().begin;
    if (!first || at.line < first->source().begin.line ||
        (at.line == first->source().begin.line && at.column < first->source().begin.column)) {
      first = &key;
    }
  }
  if (!first) return;
  std::string what;
  if (first->str() == "password") {
    what = "passwords are never read from the config file; use password_file or password_env";
    if (path_ != "mysql") what += " in [mysql]";
  } else if (auto near = NearestKey(first->str(), allowed)) {
    what = "unknown key (did you mean \"" + std::string(*near) + "\"?)";
  } else {
    what = "unknown key (allowed: " + JoinKeys(allowed) + ")";
  }
  sink_.Fail(first->source(), PathOf(first->str()), what);
}

std::string TableReader::String(std::string_view key, std::optional<std::string> fallback) {
  const toml::node* node = Get(key);
  if (!node) {
    if (!fallback) Fail(nullptr, key, "missing (required)");
    return fallback.value_or("");
  }
  const auto* s = node->as_string();
  if (!s) {
    Fail(node, key, "expected a string, got " + DescribeType(*node));
    return fallback.value_or("");
  }
  if (s->get().empty()) {
    Fail(node, key, "must not be empty");
    return fallback.value_or("");
  }
  return s->get();
}

std::string TableReader::Name(std::string_view key, NameChars chars,
                              std::optional<std::string> fallback) {
  std::string name = String(key, fallback);
  if (!name.empty() && !IsValidName(name, chars)) {
    std::string allowed = chars == NameChars::kHaproxy ? "_ . - :" : "_ . -";
    Fail(Get(key), key,
         "expected a name of letters, digits and " + allowed + ", got " + Quote(name));
  }
  return name;
}

std::optional<Millis> TableReader::Duration(std::string_view key) {
  const toml::node* node = Get(key);
  if (!node) return std::nullopt;
  const auto* s = node->as_string();
  std::optional<Millis> d = s ? ParseDuration(s->get()) : std::nullopt;
  if (!d) Fail(node, key, std::string(kDurationHint) + ", got " + ShowValue(*node));
  return d;
}

Millis TableReader::Timeout(std::string_view key, Millis fallback) {
  std::optional<Millis> d = Duration(key);
  if (!d) return fallback;
  if (d->count() <= 0) {
    Fail(Get(key), key, "a timeout must be greater than zero, got " + ShowValue(*Get(key)));
    return fallback;
  }
  return *d;
}

uint16_t TableReader::Port(std::string_view key, uint16_t fallback) {
  const toml::node* node = Get(key);
  if (!node) return fallback;
  std::optional<int64_t> port = node->value_exact<int64_t>();
  if (!port || *port < 1 || *port > 65535) {
    Fail(node, key, "expected an integer 1-65535, got " + ShowValue(*node));
    return fallback;
  }
  return static_cast<uint16_t>(*port);
}

policies::Limit TableReader::CapacityLimit(std::string_view key, policies::Limit fallback) {
  const toml::node* node = Get(key);
  if (!node) return fallback;
  if (const auto* s = node->as_string()) {
    auto limit = policies::ParseLimit(s->get());
    if (!limit) {
      Fail(node, key, limit.error().message);
      return fallback;
    }
    return limit.value();
  }
  if (const auto* i = node->as_integer()) {
    if (i->get() < 0) {
      Fail(node, key, std::to_string(i->get()) + " is negative: write " + std::string(kLimitForm));
      return fallback;
    }
    return policies::Limit::Count(static_cast<size_t>(i->get()));
  }
  Fail(node, key, "expected " + std::string(kLimitForm) + ", got " + ShowValue(*node));
  return fallback;
}

bool TableReader::Bool(std::string_view key, bool fallback) {
  const toml::node* node = Get(key);
  if (!node) return fallback;
  const auto* b = node->as_boolean();
  if (!b) {
    Fail(node, key, "expected true or false, got " + ShowValue(*node));
    return fallback;
  }
  return b->get();
}

int64_t TableReader::Int(std::string_view key, int64_t fallback, int64_t min, int64_t max) {
  const toml::node* node = Get(key);
  if (!node) return fallback;
  std::optional<int64_t> value = node->value_exact<int64_t>();
  if (!value || *value < min || *value > max) {
    Fail(node, key, "expected an integer " + std::to_string(min) + "-" + std::to_string(max) + ", got " +
                        ShowValue(*node));
    return fallback;
  }
  return *value;
}

std::optional<std::vector<StringItem>> TableReader::Strings(std::string_view key) {
  const toml::node* node = Get(key);
  if (!node) return std::nullopt;
  const auto* array = node->as_array();
  if (!array) {
    Fail(node, key, "expected an array of strings, got " + DescribeType(*node));
    return std::nullopt;
  }
  if (array->empty()) {
    Fail(node, key, "must not be an empty array (leave the key out for the default)");
    return std::nullopt;
  }
  std::vector<StringItem> items;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const auto* s = element.as_string();
    if (!s) {
      sink_.Fail(element.source(), Index(PathOf(key), i),
                 "expected a string, got " + DescribeType(element));
      return std::nullopt;
    }
    items.push_back({s->get(), &element});
  }
  return items;
}

std::vector<const toml::table*> TableReader::Tables(std::string_view key, std::string_view header) {
  const toml::node* node = Get(key);
  std::string hdr(header);
  if (!node) {
    Fail(nullptr, key, "missing; at least one " + hdr + " table is required");
    return {};
  }
  const auto* array = node->as_array();
  if (!array) {
    Fail(node, key, "expected an array of tables (" + hdr + "), got " + DescribeType(*node));
    return {};
  }
  if (array->empty()) {
    Fail(node, key, "expected at least one " + hdr + " table, got an empty array");
    return {};
  }
  std::vector<const toml::table*> tables;
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::node& element = *array->get(i);
    const auto* table = element.as_table();
    if (!table) {
      sink_.Fail(element.source(), Index(PathOf(key), i),
                 "expected a table, got " + DescribeType(element));
      return {};
    }
    tables.push_back(table);
  }
  return tables;
}

const toml::table* TableReader::SubTable(std::string_view key) {
  const toml::node* node = Get(key);
  if (!node) return nullptr;
  const auto* table = node->as_table();
  if (!table) Fail(node, key, "expected a table ([" + std::string(key) + "]), got " + DescribeType(*node));
  return table;
}

int ReadAll(int fd, std::string& out) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace caretaker::config_detail
