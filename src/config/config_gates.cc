// The [drain] and [gates] tables, in [defaults] and in each [[pools]] entry:
// how a server leaves traffic and what it must pass to come back.
#include <string>

#include "mysql/replica_status.h"
#include "src/config/config_reader.h"

namespace caretaker {

const char* DrainTimeoutActionName(DrainTimeoutAction action) {
  return action == DrainTimeoutAction::kShutdownSessions ? "shutdown" : "restore";
}

namespace config_detail {
namespace {

// "10%" -> 10; nullopt unless it is 1-100 followed by '%'.
std::optional<int> ParsePercent(std::string_view text) {
  if (text.size() < 2 || text.back() != '%') return std::nullopt;
  int value = 0;
  for (char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9' || value > 100) return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value < 1 || value > 100) return std::nullopt;
  return value;
}

// ["10%", "50%", "100%"]: rising, ending at 100%.
std::vector<int> ReadRamp(TableReader& t, const std::vector<int>& fallback) {
  auto items = t.Strings("weight_ramp");
  if (!items) return fallback;
  std::vector<int> ramp;
  for (size_t i = 0; i < items->size(); ++i) {
    const auto& [text, node] = (*items)[i];
    std::optional<int> percent = ParsePercent(text);
    std::string path = Index(t.PathOf("weight_ramp"), i);
    if (!percent) {
      t.sink().Fail(node->source(), path, "expected a percentage 1%-100%, got " + Quote(text));
      return fallback;
    }
    if (!ramp.empty() && *percent <= ramp.back()) {
      t.sink().Fail(node->source(), path, "the ramp must rise: " + Quote(text) + " after " +
                                              Quote(std::to_string(ramp.back()) + "%"));
      return fallback;
    }
    ramp.push_back(*percent);
  }
  if (ramp.back() != 100) {
    t.Fail(t.table().get("weight_ramp"), "weight_ramp", "the ramp must end at \"100%\"");
    return fallback;
  }
  return ramp;
}

std::vector<std::string> ReadQueries(TableReader& t, const std::vector<std::string>& fallback) {
  auto items = t.Strings("warmup_queries");
  if (!items) return fallback;
  std::vector<std::string> queries;
  for (size_t i = 0; i < items->size(); ++i) {
    const auto& [query, node] = (*items)[i];
    if (query.find_first_not_of(" \t\r\n") == std::string::npos) {
      t.sink().Fail(node->source(), Index(t.PathOf("warmup_queries"), i), "must not be empty");
      return fallback;
    }
    queries.push_back(query);
  }
  return queries;
}

void ReadHeartbeat(TableReader& t, GatesConfig& g) {
  g.heartbeat_table = t.String("heartbeat_table", g.heartbeat_table);
  g.heartbeat_server_id = static_cast<uint32_t>(
      t.Int("heartbeat_server_id", g.heartbeat_server_id, 0, 4294967295LL));
  if (!t.table().get("heartbeat_table")) return;
  auto query = mysql::HeartbeatQuery("", mysql::Heartbeat{g.heartbeat_table, g.heartbeat_server_id});
  if (!query) {
    t.Fail(t.table().get("heartbeat_table"), "heartbeat_table",
           "expected \"database.table\" of plain identifiers, got " + Quote(g.heartbeat_table));
  } else if (!t.table().get("heartbeat_server_id") && g.heartbeat_server_id == 0) {
    t.Fail(t.table().get("heartbeat_table"), "heartbeat_server_id",
           "heartbeat_table needs heartbeat_server_id: the primary's server_id, whose row is read");
  }
}

}  // namespace

DrainConfig ReadDrain(TableReader& parent, const DrainConfig& fallback) {
  const toml::table* table = parent.SubTable("drain");
  if (!table) return fallback;
  TableReader t(parent.sink(), *table, parent.PathOf("drain"));
  t.CheckKeys({"deadline", "on_timeout", "poll_interval"});
  DrainConfig d = fallback;
  d.deadline = t.Timeout("deadline", d.deadline);
  d.poll_interval = t.Timeout("poll_interval", d.poll_interval);
  std::string action = t.String("on_timeout", DrainTimeoutActionName(d.on_timeout));
  if (action == "restore") {
    d.on_timeout = DrainTimeoutAction::kRestore;
  } else if (action == "shutdown") {
    d.on_timeout = DrainTimeoutAction::kShutdownSessions;
  } else if (t.sink().ok()) {
    t.Fail(table->get("on_timeout"), "on_timeout", "expected \"restore\" or \"shutdown\", got " + Quote(action));
  }
  return d;
}

GatesConfig ReadGates(TableReader& parent, const GatesConfig& fallback) {
  const toml::table* table = parent.SubTable("gates");
  if (!table) return fallback;
  TableReader t(parent.sink(), *table, parent.PathOf("gates"));
  t.CheckKeys({"probe_interval", "mysql_timeout", "max_lag", "catch_up_reads", "catch_up_timeout", "gtid_wait",
               "heartbeat_table", "heartbeat_server_id", "warmup_timeout", "warmup_queries", "weight_ramp",
               "ramp_hold", "enable_timeout"});
  GatesConfig g = fallback;
  g.probe_interval = t.Timeout("probe_interval", g.probe_interval);
  g.mysql_timeout = t.Timeout("mysql_timeout", g.mysql_timeout);
  g.max_lag = t.Timeout("max_lag", g.max_lag);
  g.catch_up_reads = static_cast<int>(t.Int("catch_up_reads", g.catch_up_reads, 1, 1000));
  g.catch_up_timeout = t.Timeout("catch_up_timeout", g.catch_up_timeout);
  g.gtid_wait = t.Bool("gtid_wait", g.gtid_wait);
  ReadHeartbeat(t, g);
  g.warmup_timeout = t.Timeout("warmup_timeout", g.warmup_timeout);
  g.warmup_queries = ReadQueries(t, g.warmup_queries);
  g.weight_ramp = ReadRamp(t, g.weight_ramp);
  g.ramp_hold = t.Timeout("ramp_hold", g.ramp_hold);
  g.enable_timeout = t.Timeout("enable_timeout", g.enable_timeout);
  return g;
}

}  // namespace config_detail
}  // namespace caretaker
