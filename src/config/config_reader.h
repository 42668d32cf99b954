// Internal to the config module (src/config*.cc only; toml++ is included
// nowhere else): strict, typed reading of toml++ tables that records the FIRST
// error as "file:line:column: key.path: what is wrong".
//
// Getters never throw and never convert loosely (an integer is not a string,
// 3306.0 is not a port). After an error they return a fallback so the caller
// can carry on without checking every call; only the first error is kept,
// because later ones are usually its consequences.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <toml++/toml.h>

#include "src/config/config.h"

namespace caretaker::config_detail {

// Holds the first error of one document.
class ErrorSink {
 public:
  explicit ErrorSink(std::string file) : file_(std::move(file)) {}

  // Records "file:line:col: key_path: what" unless an error is already held.
  void Fail(const toml::source_region& where, std::string_view key_path, std::string_view what);
  bool ok() const { return !error_.has_value(); }
  const Error& error() const { return *error_; }

 private:
  std::string file_;
  std::optional<Error> error_;
};

// Key paths as users read them: Child("pools[0]", "port") == "pools[0].port",
// Child("", "mysql") == "mysql", Index("pools", 2) == "pools[2]". A key that
// is not a bare TOML key is quoted.
std::string Child(std::string_view parent, std::string_view key);
std::string Index(std::string_view parent, size_t index);

// `text` in double quotes, with quotes, backslashes and control characters
// escaped and very long text shortened, so a message stays one line.
std::string Quote(std::string_view text);
// "a string", "an integer", "a float", "a boolean", "a table", "an array", ...
std::string DescribeType(const toml::node& node);
// A scalar's value as written ("abc" quoted, 70000, 3306.5, true); anything
// else as DescribeType.
std::string ShowValue(const toml::node& node);
// The known key closest to `key` by edit distance when it is close enough.
std::optional<std::string_view> NearestKey(std::string_view key,
                                           std::initializer_list<std::string_view> known);

// The characters allowed in names: "[A-Za-z0-9_.-]+", plus ':' where HAProxy
// allows it (backend and server names). These keep names safe to put in a
// runtime API command line (no space, ';' or '/').
enum class NameChars { kPlain, kHaproxy };
bool IsValidName(std::string_view name, NameChars chars);

// One string element of an array, with its node for error positions.
struct StringItem {
  std::string value;
  const toml::node* node;
};

// One TOML table being read, at key path `path` ("" for the document root).
class TableReader {
 public:
  TableReader(ErrorSink& sink, const toml::table& table, std::string path)
      : sink_(sink), table_(table), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  const toml::table& table() const { return table_; }
  ErrorSink& sink() { return sink_; }
  std::string PathOf(std::string_view key) const { return Child(path_, key); }

  // Rejects keys outside `allowed`, at the first such key in the file. A key
  // named "password" gets the "never in the config file" message.
  void CheckKeys(std::initializer_list<std::string_view> allowed);

  // A string; `fallback` nullopt means the key is required. Empty strings are
  // refused: an empty value is never what the writer meant.
  std::string String(std::string_view key, std::optional<std::string> fallback);
  // A string that IsValidName; required when fallback is nullopt.
  std::string Name(std::string_view key, NameChars chars, std::optional<std::string> fallback);
  // A duration string ("5s") greater than zero.
  Millis Timeout(std::string_view key, Millis fallback);
  // A duration string of any sign ("0s" and "-1m" too, for the caller to
  // judge); nullopt when the key is absent or not a duration (an error).
  std::optional<Millis> Duration(std::string_view key);
  // An integer 1-65535.
  uint16_t Port(std::string_view key, uint16_t fallback);
  // A capacity limit: an integer count of members (0 or more) or a string
  // policies::ParseLimit reads ("75%", or "3").
  policies::Limit CapacityLimit(std::string_view key, policies::Limit fallback);
  // true or false.
  bool Bool(std::string_view key, bool fallback);
  // An integer in [min, max].
  int64_t Int(std::string_view key, int64_t fallback, int64_t min, int64_t max);
  // A non-empty array of strings; nullopt when the key is absent (or bad).
  std::optional<std::vector<StringItem>> Strings(std::string_view key);
  // A required, non-empty array of tables written as [[header]].
  std::vector<const toml::table*> Tables(std::string_view key, std::string_view header);
  // An optional table ([key]); nullptr when absent (or bad).
  const toml::table* SubTable(std::string_view key);

  // Records an error at `node` (or, with no node, at this table) for `key`.
  void Fail(const toml::node* node, std::string_view key, std::string_view what);

 private:
  const toml::node* Get(std::string_view key) const { return table_.get(key); }

  ErrorSink& sink_;
  const toml::table& table_;
  std::string path_;
};

// The [drain] and [gates] tables of [defaults] or of one pool (config_gates.cc):
// each key not set falls back to `fallback`'s value.
DrainConfig ReadDrain(TableReader& parent, const DrainConfig& fallback);
GatesConfig ReadGates(TableReader& parent, const GatesConfig& fallback);

// `caretaker serve`'s settings (config_serve.cc): the [serve] table of the
// document root, the built-in values when absent.
ServeConfig ReadServe(TableReader& root);
// The [api] table (config_api.cc); enabled false when absent.
ApiConfig ReadApi(TableReader& root);
// A pool's [pools.schedule]; nullopt when absent. Its `task` is checked
// against the [[tasks]] by CheckScheduleTasks, as tasks are read after pools.
std::optional<ScheduleConfig> ReadSchedule(TableReader& pool);
// Records an error at the `task` of the first schedule (of `pools`, read from
// `root`'s [[pools]] in order) that names none of `tasks`.
void CheckScheduleTasks(TableReader& root, const std::vector<PoolConfig>& pools,
                        const std::vector<TaskConfig>& tasks);
// on_maint_expiry of [defaults] or a pool: "report" or "restore".
MaintExpiry ReadMaintExpiry(TableReader& t, MaintExpiry fallback);

// The [[tasks]] tables of the document root (config_tasks.cc): none when the
// key is absent; names unique.
std::vector<TaskConfig> ReadTasks(TableReader& root);
// The [roll] table of the document root; the built-in values when absent.
RollConfig ReadRoll(TableReader& root);
// `command` of a step or a rule: an argv array or a shell string, into
// step.argv or step.shell, placeholders checked (config_tasks.cc).
void ReadCommand(TableReader& t, StepConfig& step);
// Why `text` has a placeholder that is not {host} {port} {server} {pool}, or
// "" when it has none such (config_tasks.cc).
std::string CheckPlaceholders(std::string_view text);
// The [[rules]] tables (config_rules.cc): none when the key is absent; names
// unique, pools, members and tasks they name checked against the config.
std::vector<RuleConfig> ReadRules(TableReader& root, const Config& config);
// The [[prometheus]] or [[graphite]] tables (`key`) of the document root
// (config_rules.cc): none when the key is absent; names unique.
std::vector<MonitorServerConfig> ReadMonitorServers(TableReader& root, std::string_view key);
// "http://HOST[:PORT][/PATH]" into host, port and path (no trailing "/"),
// or why not, one clause (config_rules.cc).
// "1".."65535" into `port`; false for anything else.
bool ParsePort(std::string_view text, uint16_t& port);
std::string ParseHttpUrl(const std::string& url, std::string& host, uint16_t& port, std::string& path);
// An absolute path, or empty when the key is absent.
std::string ReadSecretPath(TableReader& t, std::string_view key);
// The bake tables of [[pools]] and [[tasks]] (config_rules.cc), read once
// both and the monitoring servers are: into config.pools[i].bake, ...
void ReadBakes(TableReader& root, Config& config);
// The [[notify]] tables (config_notify.cc): none when the key is absent.
std::vector<NotifyConfig> ReadNotify(TableReader& root, const std::vector<PoolConfig>& pools);

// Where a name was first seen, for "duplicate" messages that point back to it.
struct FirstUse {
  std::string path;
  unsigned line;
};

// Records an error for `t`'s `key` when `name` is already in `seen` (naming
// where it was first used), else remembers it; empty names are skipped.
// Defined in config.cc.
void CheckUnique(TableReader& t, std::string_view key, const std::string& name,
                 std::map<std::string, FirstUse>& seen);

// Reads all of `fd` into `out`; returns 0 or the errno of the failed read.
int ReadAll(int fd, std::string& out);

}  // namespace caretaker::config_detail
