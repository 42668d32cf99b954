#include "mysql/warmup.h"

#include <charconv>

namespace caretaker::mysql {
namespace {

using State = BufferPoolLoad::State;

std::string_view Trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

bool Contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Reads a whole unsigned number and advances past it.
std::optional<uint64_t> TakeCount(std::string_view& s) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec != std::errc()) return std::nullopt;
  s.remove_prefix(static_cast<size_t>(end - s.data()));
  return n;
}

// "Loaded N/M pages" with N <= M; false when the text is not exactly that.
bool ParseLoadedPages(std::string_view s, BufferPoolLoad& load) {
  if (!s.starts_with("Loaded ")) return false;
  s.remove_prefix(7);
  auto loaded = TakeCount(s);
  if (!loaded || !s.starts_with("/")) return false;
  s.remove_prefix(1);
  auto total = TakeCount(s);
  if (!total || s != " pages" || *loaded > *total) return false;
  load.loaded = *loaded;
  load.total = *total;
  return true;
}

State StateOf(std::string_view s) {
  if (s.empty() || s.ends_with("not started")) return State::kNotStarted;
  if (s.starts_with("Buffer pool(s) load completed at ")) return State::kCompleted;
  if (s.starts_with("Loading buffer pool(s) from ")) return State::kLoading;
  if (s.starts_with("Cannot open '") && Contains(s, "' for reading")) return State::kNothingToLoad;
  if (s.starts_with("Buffer pool(s) load aborted")) return State::kAborted;
  if (Contains(s, "unable to load buffer pool") || s.starts_with("Cannot allocate ")) return State::kAborted;
  return State::kUnknown;
}

}  // namespace

BufferPoolLoad ParseBufferPoolLoad(std::string_view value) {
  BufferPoolLoad load;
  load.text = std::string(value);
  const std::string_view s = Trim(value);
  if (ParseLoadedPages(s, load)) {
    load.state = State::kLoading;
    return load;
  }
  load.state = StateOf(s);
  return load;
}

const char* BufferPoolLoadStateName(BufferPoolLoad::State state) {
  switch (state) {
    case State::kCompleted: return "completed";
    case State::kLoading: return "loading";
    case State::kNothingToLoad: return "nothing to load";
    case State::kNotStarted: return "not started";
    case State::kAborted: return "aborted";
    case State::kUnknown: return "unknown";
  }
  return "unknown";
}

std::optional<BufferPoolLoad> BufferPoolLoadFromRows(const Rows& rows) {
  auto name = rows.Find({"Variable_name"});
  auto value = rows.Find({"Value"});
  if (!name || !value) return std::nullopt;
  for (const auto& row : rows.rows) {
    const auto& n = row[*name];
    if (!n || !EqualsIgnoringCase(*n, "Innodb_buffer_pool_load_status")) continue;
    if (!row[*value]) return std::nullopt;
    return ParseBufferPoolLoad(*row[*value]);
  }
  return std::nullopt;
}

Status RunWarmupQueries(const Target& target, const std::vector<std::string>& queries) {
  auto connection = Connection::Open(target);
  if (!connection) return connection.error();
  for (const std::string& q : queries) {
    auto rows = connection.value().Query(q);
    if (!rows) return rows.error();
  }
  return Ok();
}

}  // namespace caretaker::mysql
