// The configuration schema: which tables and keys exist, their defaults, and
// the checks across sections (unique names, references, backend ownership).
// Typed reading of single values lives in config_reader.cc.
#include "src/config/config.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "haproxy/endpoint.h"
#include "src/config/config_reader.h"

namespace caretaker {
namespace {

using config_detail::CheckUnique;
using config_detail::ErrorSink;
using config_detail::FirstUse;
using config_detail::Index;
using config_detail::NameChars;
using config_detail::Quote;
using config_detail::TableReader;

// Built-in defaults, documented in conf/caretaker.example.toml.
constexpr Millis kHaproxyConnectTimeout{1000};
constexpr Millis kHaproxyReplyTimeout{5000};
constexpr Millis kHaproxyUnresponsiveDeadline{30000};
constexpr uint16_t kMysqlPort = 3306;
// The built-in capacity policy: at least half of a pool (rounded up) serves,
// and one member at a time is out, counting those already down or lagging. A
// stricter floor would make every two-member pool unwalkable by default.
const policies::Limit kMinInService = policies::Limit::Percent(50);
const policies::Limit kMaxOut = policies::Limit::Count(1);

// [defaults]: for every [[haproxy]] and [[pools]] that does not set its own.
struct Defaults {
  Millis connect_timeout = kHaproxyConnectTimeout;
  Millis reply_timeout = kHaproxyReplyTimeout;
  Millis unresponsive_deadline = kHaproxyUnresponsiveDeadline;
  policies::CapacityPolicy capacity{kMinInService, kMaxOut, true};
  DrainConfig drain;
  GatesConfig gates;
  MaintExpiry on_maint_expiry = MaintExpiry::kReport;
};

// min_in_service, max_out and count_unhealthy_as_out of [defaults] or a pool.
policies::CapacityPolicy ReadCapacity(TableReader& t, const policies::CapacityPolicy& fallback) {
  policies::CapacityPolicy c;
  c.min_in_service = t.CapacityLimit("min_in_service", fallback.min_in_service);
  c.max_out = t.CapacityLimit("max_out", fallback.max_out.value_or(kMaxOut));
  c.count_unhealthy_as_out = t.Bool("count_unhealthy_as_out", fallback.count_unhealthy_as_out);
  return c;
}

Defaults ReadDefaults(TableReader& root) {
  Defaults d;
  const toml::table* table = root.SubTable("defaults");
  if (!table) return d;
  TableReader t(root.sink(), *table, "defaults");
  t.CheckKeys({"haproxy_connect_timeout", "haproxy_reply_timeout", "haproxy_unresponsive_deadline",
               "min_in_service", "max_out", "count_unhealthy_as_out", "drain", "gates", "on_maint_expiry"});
  d.connect_timeout = t.Timeout("haproxy_connect_timeout", d.connect_timeout);
  d.reply_timeout = t.Timeout("haproxy_reply_timeout", d.reply_timeout);
  d.unresponsive_deadline = t.Timeout("haproxy_unresponsive_deadline", d.unresponsive_deadline);
  d.capacity = ReadCapacity(t, d.capacity);
  d.drain = config_detail::ReadDrain(t, d.drain);
  d.gates = config_detail::ReadGates(t, d.gates);
  d.on_maint_expiry = config_detail::ReadMaintExpiry(t, d.on_maint_expiry);
  if (d.gates.gtid_wait) {
    const toml::node* key = table->get("gates")->as_table()->get("gtid_wait");
    t.sink().Fail(key->source(), t.PathOf("gates") + ".gtid_wait",
                  "gtid_wait needs a pool's primary: set it in the [pools.gates] of pools that have [pools.primary]");
  }
  return d;
}

// Connector/C takes its timeouts as whole seconds: "1500ms" would silently
// become 1s, and anything under 1s would become 0, which means "no timeout".
std::chrono::seconds WholeSecondsTimeout(TableReader& t, std::string_view key, std::chrono::seconds fallback) {
  Millis d = t.Timeout(key, fallback);
  if (d.count() % 1000 != 0) {
    t.Fail(t.table().get(key), key,
           "MySQL timeouts are whole seconds (Connector/C counts seconds), got " +
               Quote(FormatDuration(d)));
  }
  return std::chrono::duration_cast<std::chrono::seconds>(d);
}

// An environment variable name as a POSIX shell accepts it.
bool IsEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (char c : name) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// [state] dir: an absolute path.
void ReadState(TableReader& root, Config& config) {
  const toml::table* table = root.SubTable("state");
  if (!table) return;
  TableReader t(root.sink(), *table, "state");
  t.CheckKeys({"dir", "halt_file"});
  for (auto [key, value] : {std::pair{"dir", &config.state_dir}, std::pair{"halt_file", &config.halt_file}}) {
    *value = t.String(key, *value);
    if (value->empty() || value->front() != '/') {
      t.Fail(table->get(key), key, "expected an absolute path, got " + Quote(*value));
    }
  }
}

MysqlConfig ReadMysql(TableReader& root) {
  MysqlConfig m;
  const toml::table* table = root.SubTable("mysql");
  if (!table) return m;
  TableReader t(root.sink(), *table, "mysql");
  t.CheckKeys({"user", "password_file", "password_env", "connect_timeout", "read_timeout"});
  m.user = t.String("user", m.user);
  m.password_file = t.String("password_file", "");
  if (!m.password_file.empty() && m.password_file.front() != '/') {
    t.Fail(table->get("password_file"), "password_file",
           "expected an absolute path, got " + Quote(m.password_file));
  }
  m.password_env = t.String("password_env", "");
  if (!m.password_env.empty() && !IsEnvName(m.password_env)) {
    t.Fail(table->get("password_env"), "password_env",
           "expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), got " +
               Quote(m.password_env));
  }
  m.connect_timeout = WholeSecondsTimeout(t, "connect_timeout", m.connect_timeout);
  m.read_timeout = WholeSecondsTimeout(t, "read_timeout", m.read_timeout);
  return m;
}

HaproxyConfig ReadHaproxy(TableReader& t, const Defaults& defaults,
                          std::map<std::string, FirstUse>& names) {
  HaproxyConfig h;
  t.CheckKeys({"name", "socket", "connect_timeout", "reply_timeout"});
  h.name = t.Name("name", NameChars::kPlain, std::nullopt);
  CheckUnique(t, "name", h.name, names);
  h.socket = t.String("socket", std::nullopt);
  if (!h.socket.empty()) {
    // One definition of a valid socket: the one the HAProxy client uses.
    auto endpoint = haproxy::Endpoint::Parse(h.socket);
    if (!endpoint) t.Fail(t.table().get("socket"), "socket", endpoint.error().message);
    else h.endpoint = endpoint.value();
  }
  h.connect_timeout = t.Timeout("connect_timeout", defaults.connect_timeout);
  h.reply_timeout = t.Timeout("reply_timeout", defaults.reply_timeout);
  return h;
}

std::vector<HaproxyConfig> ReadHaproxies(TableReader& root, const Defaults& defaults) {
  std::vector<HaproxyConfig> out;
  std::map<std::string, FirstUse> names;
  auto tables = root.Tables("haproxy", "[[haproxy]]");
  for (size_t i = 0; i < tables.size() && root.sink().ok(); ++i) {
    TableReader t(root.sink(), *tables[i], Index("haproxy", i));
    out.push_back(ReadHaproxy(t, defaults, names));
  }
  return out;
}

std::string KnownHaproxyNames(const std::vector<HaproxyConfig>& haproxies) {
  std::string out;
  for (const auto& h : haproxies) out += (out.empty() ? "" : ", ") + h.name;
  return out;
}

// The pool's `haproxy` list: each must name a [[haproxy]], none twice;
// absent means every instance, in file order.
std::vector<std::string> ReadPoolHaproxy(TableReader& t, const std::vector<HaproxyConfig>& all) {
  std::vector<std::string> out;
  auto items = t.Strings("haproxy");
  if (!items) {
    if (!t.table().get("haproxy")) {
      for (const auto& h : all) out.push_back(h.name);
    }
    return out;
  }
  for (size_t i = 0; i < items->size(); ++i) {
    const auto& [name, node] = (*items)[i];
    std::string path = Index(t.PathOf("haproxy"), i);
    bool known = false;
    for (const auto& h : all) known = known || h.name == name;
    if (!known) {
      t.sink().Fail(node->source(), path, "no [[haproxy]] named " + Quote(name) +
                                              " (known: " + KnownHaproxyNames(all) + ")");
    } else if (std::find(out.begin(), out.end(), name) != out.end()) {
      t.sink().Fail(node->source(), path, Quote(name) + " is listed twice");
    }
    out.push_back(name);
  }
  return out;
}

std::vector<MemberConfig> ReadMembers(TableReader& pool) {
  std::vector<MemberConfig> out;
  std::map<std::string, FirstUse> servers;
  auto tables = pool.Tables("members", "[[pools.members]]");
  for (size_t i = 0; i < tables.size() && pool.sink().ok(); ++i) {
    TableReader t(pool.sink(), *tables[i], Index(pool.PathOf("members"), i));
    t.CheckKeys({"server", "host", "port"});
    MemberConfig m;
    m.server = t.Name("server", NameChars::kHaproxy, std::nullopt);
    CheckUnique(t, "server", m.server, servers);
    m.host = t.String("host", std::nullopt);
    m.port = t.Port("port", kMysqlPort);
    out.push_back(std::move(m));
  }
  return out;
}

// [pools.primary]: where the pool's replicas replicate from.
std::optional<PrimaryConfig> ReadPrimary(TableReader& pool) {
  const toml::table* table = pool.SubTable("primary");
  if (!table) return std::nullopt;
  TableReader t(pool.sink(), *table, pool.PathOf("primary"));
  t.CheckKeys({"host", "port"});
  PrimaryConfig p;
  p.host = t.String("host", std::nullopt);
  p.port = t.Port("port", kMysqlPort);
  return p;
}

PoolConfig ReadPool(TableReader& t, const std::vector<HaproxyConfig>& haproxies,
                    const Defaults& defaults, std::map<std::string, FirstUse>& names) {
  PoolConfig p;
  t.CheckKeys({"name", "backend", "haproxy", "min_in_service", "max_out", "count_unhealthy_as_out",
               "members", "drain", "gates", "bake", "primary", "schedule", "on_maint_expiry"});
  p.name = t.Name("name", NameChars::kPlain, std::nullopt);
  CheckUnique(t, "name", p.name, names);
  p.backend = t.Name("backend", NameChars::kHaproxy, p.name);
  p.haproxy = ReadPoolHaproxy(t, haproxies);
  p.capacity = ReadCapacity(t, defaults.capacity);
  p.drain = config_detail::ReadDrain(t, defaults.drain);
  p.gates = config_detail::ReadGates(t, defaults.gates);
  p.primary = ReadPrimary(t);
  p.schedule = config_detail::ReadSchedule(t);
  p.on_maint_expiry = config_detail::ReadMaintExpiry(t, defaults.on_maint_expiry);
  if (p.gates.gtid_wait && !p.primary && t.sink().ok()) {
    // Only a pool's own [pools.gates] can set it ([defaults.gates] may not).
    const toml::node* key = t.table().get("gates")->as_table()->get("gtid_wait");
    t.sink().Fail(key->source(), t.PathOf("gates") + ".gtid_wait",
                  "gtid_wait needs the pool's primary: add [pools.primary] with its host and port");
  }
  p.members = ReadMembers(t);
  p.line = t.table().source().begin.line;
  p.column = t.table().source().begin.column;
  return p;
}

// Two pools managing one backend on one HAProxy instance would each spend
// their own capacity budget on the same servers: refuse it.
void CheckBackendOwner(TableReader& t, const PoolConfig& pool,
                       std::map<std::pair<std::string, std::string>, std::string>& owners) {
  for (const std::string& lb : pool.haproxy) {
    auto [it, inserted] = owners.try_emplace({lb, pool.backend}, pool.name);
    if (inserted) continue;
    t.Fail(t.table().get("backend"), "backend",
           "backend " + Quote(pool.backend) + " on " + lb + " already belongs to pool " +
               Quote(it->second) + "; one backend is managed by one pool");
    return;
  }
}

std::vector<PoolConfig> ReadPools(TableReader& root, const std::vector<HaproxyConfig>& haproxies,
                                  const Defaults& defaults) {
  std::vector<PoolConfig> out;
  std::map<std::string, FirstUse> names;
  std::map<std::pair<std::string, std::string>, std::string> backend_owners;
  auto tables = root.Tables("pools", "[[pools]]");
  for (size_t i = 0; i < tables.size() && root.sink().ok(); ++i) {
    TableReader t(root.sink(), *tables[i], Index("pools", i));
    out.push_back(ReadPool(t, haproxies, defaults, names));
    if (root.sink().ok()) CheckBackendOwner(t, out.back(), backend_owners);
  }
  return out;
}

}  // namespace

namespace config_detail {

void CheckUnique(TableReader& t, std::string_view key, const std::string& name,
                 std::map<std::string, FirstUse>& seen) {
  const toml::node* node = t.table().get(key);
  if (name.empty() || !node) return;
  auto [it, inserted] = seen.try_emplace(name, FirstUse{t.path(), node->source().begin.line});
  if (inserted) return;
  t.Fail(node, key, "duplicate " + std::string(key) + " " + Quote(name) + " (first used by " +
                        it->second.path + " at line " + std::to_string(it->second.line) + ")");
}

}  // namespace config_detail

const HaproxyConfig* Config::FindHaproxy(std::string_view name) const {
  for (const auto& h : haproxy) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

const MemberConfig* PoolConfig::FindMember(std::string_view server) const {
  for (const MemberConfig& m : members) {
    if (m.server == server) return &m;
  }
  return nullptr;
}

const PoolConfig* Config::FindPool(std::string_view name) const {
  for (const auto& p : pools) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

const TaskConfig* Config::FindTask(std::string_view name) const {
  for (const auto& t : tasks) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const RuleConfig* Config::FindRule(std::string_view name) const {
  for (const auto& r : rules) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

Result<void> CheckPoolPolicy(const Config& config, const PoolConfig& pool) {
  auto valid = policies::ValidatePolicy(pool.capacity, pool.members.size(), pool.name);
  if (valid) return boost::outcome_v2::success();
  std::string where = config.path + ":" + std::to_string(pool.line ? pool.line : 1) + ":" +
                      std::to_string(pool.column ? pool.column : 1) + ": ";
  for (size_t i = 0; i < config.pools.size(); ++i) {
    if (config.pools[i].name == pool.name) where += Index("pools", i) + ": ";
  }
  return Error{where + valid.error().message};
}

Result<Config> ParseConfig(std::string_view toml_text, const std::string& path) {
  toml::table doc;
  try {
    doc = toml::parse(toml_text, std::string_view(path));
  } catch (const toml::parse_error& e) {
    // A syntax error has a position but no key path.
    ErrorSink sink(path);
    sink.Fail(e.source(), "", e.description());
    return sink.error();
  }
  ErrorSink sink(path);
  TableReader root(sink, doc, "");
  root.CheckKeys({"state", "defaults", "mysql", "haproxy", "pools", "tasks", "roll", "serve", "rules",
                  "prometheus", "graphite", "notify", "api"});
  Config config;
  config.path = path;
  ReadState(root, config);
  Defaults defaults = ReadDefaults(root);
  config.haproxy_unresponsive_deadline = defaults.unresponsive_deadline;
  config.mysql = ReadMysql(root);
  if (sink.ok()) config.haproxy = ReadHaproxies(root, defaults);
  if (sink.ok()) config.pools = ReadPools(root, config.haproxy, defaults);
  if (sink.ok()) config.tasks = config_detail::ReadTasks(root);
  if (sink.ok()) config_detail::CheckScheduleTasks(root, config.pools, config.tasks);
  if (sink.ok()) config.roll = config_detail::ReadRoll(root);
  if (sink.ok()) config.serve = config_detail::ReadServe(root);
  if (sink.ok()) config.api = config_detail::ReadApi(root);
  if (sink.ok()) config.prometheus = config_detail::ReadMonitorServers(root, "prometheus");
  if (sink.ok()) config.graphite = config_detail::ReadMonitorServers(root, "graphite");
  if (sink.ok()) config_detail::ReadBakes(root, config);
  if (sink.ok()) config.rules = config_detail::ReadRules(root, config);
  if (sink.ok()) config.notify = config_detail::ReadNotify(root, config.pools);
  if (!sink.ok()) return sink.error();
  return config;
}

Result<Config> LoadConfig(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  std::string text;
  int err = fd < 0 ? errno : config_detail::ReadAll(fd, text);
  if (fd >= 0) ::close(fd);
  if (err != 0) return Error{path + ": cannot read: " + std::strerror(err)};
  return ParseConfig(text, path);
}

}  // namespace caretaker
