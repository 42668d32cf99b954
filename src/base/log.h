// Structured logging: one event per line, to stderr.
//
// An event has a dotted name and key=value fields:
//   human: 2026-11-25 04:50:00.123 INFO  drain.start pool=replicas server=db1
//   json:  {"ts":"2026-11-25T04:50:00.123Z","level":"info","event":"drain.start","pool":"replicas","server":"db1"}
// JSON lines are escaped (spdlog does not escape: we build the line). spdlog
// is included only by log.cc.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace caretaker {

enum class LogFormat { kHuman, kJson };
enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// Parses "human"/"json" and "debug"/"info"/"warn"/"error"/"off".
bool ParseLogFormat(std::string_view text, LogFormat* out);
bool ParseLogLevel(std::string_view text, LogLevel* out);

// Call once from main before logging; until then events go out as human lines
// at level info.
void InitLogging(LogFormat format, LogLevel min_level);

struct LogField {
  LogField(std::string_view k, std::string_view v) : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  LogField(std::string_view k, int64_t v) : key(k), value(std::to_string(v)), quoted(false) {}
  LogField(std::string_view k, int v) : key(k), value(std::to_string(v)), quoted(false) {}
  LogField(std::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}

  std::string_view key;
  std::string value;
  bool quoted;  // a string in JSON (numbers and booleans are not)
};

void LogEvent(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {});

// The line LogEvent would write, without time and level (exposed for tests).
std::string FormatEventJson(std::string_view ts, std::string_view level, std::string_view event,
                            std::initializer_list<LogField> fields);
std::string FormatEventHuman(std::string_view event, std::initializer_list<LogField> fields);

// JSON string escaping (quotes not included): ", \, control characters, and
// invalid UTF-8 bytes replaced by U+FFFD so every line stays valid JSON.
std::string JsonEscape(std::string_view text);
// The same, appended to `out` (no temporary: 10,000 servers of `status --json`).
void AppendJsonEscaped(std::string& out, std::string_view text);

}  // namespace caretaker
