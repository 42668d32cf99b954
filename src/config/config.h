// caretaker's configuration: parsed once from TOML into plain structs.
//
// Contract: LoadConfig either returns a complete, validated Config (every field
// set, defaults applied, references between sections resolved) or one error
// whose message names file:line:column and the key path, e.g.
//   caretaker.toml:14:8: pools[0].members[2].port: expected an integer 1-65535, got "abc"
// Unknown keys are errors. toml++ is included nowhere but config.cc.
//
// Capacity policies: LoadConfig checks each value (min_in_service is "3" or
// "75%", ...) but not whether a pool's policy can work for its size; that is
// CheckPoolPolicy, run by `caretaker check` for every pool and by every command
// that takes a member out, for its pool. `status` does not run it: a read-only
// view must keep working on a pool that cannot be walked (say one that shrank
// to a single member during an incident).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "haproxy/endpoint.h"
#include "policies/capacity.h"
#include "src/base/result.h"
#include "src/base/time.h"
#include "src/config/rule_config.h"
#include "src/config/schedule.h"

namespace caretaker {

struct HaproxyConfig {
  std::string name;                // "lb1", unique
  std::string socket;              // "unix:/run/haproxy/admin.sock" or "tcp:10.0.0.1:9999"
  haproxy::Endpoint endpoint;      // `socket`, parsed
  Millis connect_timeout{1000};
  Millis reply_timeout{5000};
};

struct MemberConfig {
  std::string server;  // the HAProxy server name in the pool's backend, unique per pool
  std::string host;    // MySQL host (name or address)
  uint16_t port = 3306;
};

// What happens to a server while it is drained: how long sessions may take to
// end, and what to do with those that have not when the deadline passes.
enum class DrainTimeoutAction { kRestore, kShutdownSessions };
const char* DrainTimeoutActionName(DrainTimeoutAction action);  // "restore", "shutdown"

struct DrainConfig {
  Millis deadline{std::chrono::minutes(2)};
  // restore: put the server back READY and fail; shutdown: `shutdown
  // sessions server` (also what `maint start --force-sessions` asks for).
  DrainTimeoutAction on_timeout = DrainTimeoutAction::kRestore;
  Millis poll_interval{100};  // how often sessions are counted
};

// Gates a task turned off (its `gates_off`), never set by [gates]. mysqld off
// means no probe at all, so the loader requires the others off with it.
struct GatesOff {
  bool mysqld = false;
  bool replication = false;
  bool catch_up = false;
  bool warmup = false;
  bool any() const { return mysqld || replication || catch_up || warmup; }
};

// The gates a server passes before it is put back in traffic, in order:
// mysqld answers with both replication threads running, replication caught
// up, warm. Each has its own deadline; a gate that times out leaves the server
// out of traffic.
struct GatesConfig {
  Millis probe_interval{1000};
  Millis mysql_timeout{std::chrono::minutes(10)};  // mysqld answering, threads running
  Millis max_lag{5000};
  int catch_up_reads = 3;                          // consecutive reads at or below max_lag
  Millis catch_up_timeout{std::chrono::minutes(30)};
  bool gtid_wait = false;                          // MASTER_GTID_WAIT for the primary's position first
  std::string heartbeat_table;                     // "db.table" (pt-heartbeat); empty: Seconds_Behind_Master
  uint32_t heartbeat_server_id = 0;                // the primary's server_id in that table
  Millis warmup_timeout{std::chrono::minutes(30)};
  std::vector<std::string> warmup_queries;         // run once each, in order, before enabling
  std::vector<int> weight_ramp;                    // percents, rising, last is 100; empty: no ramp
  Millis ramp_hold{30000};                         // time at each ramp step but the last
  Millis enable_timeout{30000};                    // READY confirmed and UP on every instance
  GatesOff off;                                    // from the task being run; all on by default
};

struct PrimaryConfig {
  std::string host;
  uint16_t port = 3306;
};

// [pools.schedule]: when `caretaker serve` walks the pool on its own. Every
// firing of `cron` (in `timezone`) opens a window of `window`; a job of
// `task` over every member starts when a window opens, no member starts
// after it closes (the job pauses), and the job goes on in the next window.
struct ScheduleConfig {
  std::string task;    // a [[tasks]] name (checked)
  Schedule schedule;   // cron, time zone (default UTC), window length (> 0)
  unsigned line = 0;   // where [pools.schedule] starts, for messages
  unsigned column = 0;
};

// What `caretaker serve` does with a maintenance record (`maint start --for`)
// past its end: always reports it, loudly; kRestore also puts the host back
// through the gates (as `caretaker maint stop` does), unless halted.
enum class MaintExpiry { kReport, kRestore };
const char* MaintExpiryName(MaintExpiry action);  // "report", "restore"

// [pools.bake] / [tasks.bake]: the bake (canary analysis) after a member is
// back in traffic: its checks — rule conditions with their sources — must
// read clear for `for` (the walk's first member: `canary`) before the next
// member starts; one that holds takes the member out again and stops the
// walk (walker.h WalkSpec::bake). A task's bake replaces its pool's.
struct BakeConfig {
  Millis bake{std::chrono::minutes(1)};  // `for`
  Millis canary_bake{0};                  // `canary`: 0, the same as `for`
  Millis interval{std::chrono::seconds(5)};
  std::vector<RuleConfig> checks;         // [[...bake.checks]], at least one
};

struct PoolConfig {
  std::string name;                   // unique
  std::string backend;                // HAProxy backend; default: the pool's name
  std::vector<std::string> haproxy;   // names of the instances serving it; default: all
  std::vector<MemberConfig> members;  // at least one
  // min_in_service, max_out (always set), count_unhealthy_as_out; defaults
  // from [defaults], else the built-in ones (50%, 1, true).
  policies::CapacityPolicy capacity{};
  DrainConfig drain;
  GatesConfig gates;
  std::optional<BakeConfig> bake;
  std::optional<PrimaryConfig> primary;  // needed by gates.gtid_wait
  std::optional<ScheduleConfig> schedule;
  MaintExpiry on_maint_expiry = MaintExpiry::kReport;  // [defaults] or the pool's own
  // Where its [[pools]] table starts in Config::path, for messages.
  unsigned line = 0;
  unsigned column = 0;

  const MemberConfig* FindMember(std::string_view server) const;  // null: not a member
};

// One step of a task: a command run while the host is out of traffic.
// Exactly one of argv / shell is set ([[tasks.steps]] command = [...] / "...").
// Placeholders {host} {port} {server} {pool} are replaced in each argv element
// as they are, and in a shell string shell-quoted.
struct StepConfig {
  std::string name;               // default: the command as written
  std::vector<std::string> argv;  // command = ["systemctl", "restart", "mariadb"]
  std::string shell;              // command = "systemctl restart mariadb" (sh -c)
  Millis timeout{std::chrono::minutes(10)};
  int retries = 0;                // more attempts after a failure (0: none)
  Millis retry_delay{5000};
  // Whether running it again after an interruption is harmless (caretaker
  // died while it ran, so whether it finished is unknown). Only such a step
  // is repeated when a job is resumed; at any other the job stops for an
  // operator (`caretaker job retry ID --from-step N`).
  bool safe_to_repeat = false;
  unsigned line = 0;              // where its table starts, for messages
};

enum class StepTransport { kLocal, kSsh };
const char* StepTransportName(StepTransport transport);  // "local", "ssh"

// How `transport = "ssh"` reaches a member's host (the member's `host`).
struct SshConfig {
  std::string user;                  // empty: ssh's default
  uint16_t port = 22;
  std::vector<std::string> options;  // extra ssh arguments, before the host
};

// [[tasks]]: what a rolling walk does on each host, between drain and gates.
struct TaskConfig {
  std::string name;  // unique
  std::string description;
  StepTransport transport = StepTransport::kLocal;
  SshConfig ssh;
  std::vector<StepConfig> steps;  // at least one
  GatesOff gates_off;             // gates = ["warm-up", ...] named in gates_off
  std::optional<BakeConfig> bake; // replaces its pool's
  unsigned line = 0;
  unsigned column = 0;
};

// [roll]: limits of rolling walks.
struct RollConfig {
  int max_concurrent_hosts = 20;  // hosts out at once across every pool of one caretaker
  Millis pause_deadline{std::chrono::minutes(30)};  // a walk paused on capacity this long fails
};

// [api]: serve's HTTP side (/api/v1, /metrics, /healthz, /readyz). Off
// unless the table is there.
struct ApiConfig {
  bool enabled = false;
  std::string listen_host = "127.0.0.1";  // an IPv4 address
  uint16_t listen_port = 9187;
  std::string tokens_file;  // required: "NAME ROLE SHA256-HEX" per line, mode 0600
  // HTTPS when both are set: the certificate chain (PEM) and its private
  // key (PEM, a secret: mode 0600), read at start and at each reload.
  std::string tls_cert;
  std::string tls_key;
  // Binding to an address other than loopback, without TLS, must be asked
  // for: tokens then cross the network in the clear.
  bool allow_insecure_remote = false;
  // /metrics without a token (a Prometheus on the same trusted network).
  bool metrics_public = false;
  // Host header names accepted besides the listen address and localhost
  // (a DNS name the API is reached by); anything else is refused (DNS rebinding).
  std::vector<std::string> hosts;
};

// [serve]: the daemon.
struct ServeConfig {
  int max_concurrent_jobs = 4;  // jobs (each of one pool) running at once, 1-1000
};

struct MysqlConfig {
  std::string user = "caretaker";
  std::string password_file;  // path; mode must not allow group/other access
  std::string password_env;   // name of an environment variable
  // Whole seconds, as Connector/C takes them (the loader refuses "1500ms").
  std::chrono::seconds connect_timeout{3};
  std::chrono::seconds read_timeout{10};
};

// [[notify]]: a webhook told what automation did (run/notifier.h). Events
// are posted as JSON with a Slack-compatible `text`; delivery never blocks
// anything: a bounded queue, retries with backoff.
struct NotifyConfig {
  std::string name;               // unique; logs say "notify NAME"
  std::string url;                // as written: "http://chat.example:8080/hooks/caretaker"
  std::string host;               // parsed from url
  uint16_t port = 80;
  std::string path = "/";         // the request target
  std::vector<std::string> events;  // kinds (kNotifyKinds) or "job.*"-style prefixes; empty: every kind
  std::vector<std::string> pools;   // empty: every pool (events of no pool, as a halt, always pass)
  std::string secret_header;        // with secret_file: a header sent with the file's text
  std::string secret_file;
  Millis timeout{std::chrono::seconds(5)};  // one delivery attempt
  int retries = 5;                          // attempts after the first, 1 s, 2 s, 4 s ... apart (at most 60 s)
  int queue = 1000;                         // events waiting; past it the oldest is dropped (and counted)
  unsigned line = 0;
};

// Every event kind a [[notify]] may ask for.
inline constexpr const char* kNotifyKinds[] = {
    "job.started",  "job.done",     "job.failed",   "job.paused",  "job.stopped", "host.left_out",
    "halt",         "resume",       "rule.action",  "rule.refused", "rule.breaker", "maint.expired"};

struct Config {
  std::string path;  // the file it was read from
  // Where caretaker keeps its own state ([state] dir): the state store
  // (caretaker.db: maintenance records, the halt switch, the audit trail).
  std::string state_dir = "/var/lib/caretaker";
  // A file whose existence halts every automated action ([state] halt_file),
  // for when no caretaker command can run: `touch /etc/caretaker/HALT`.
  std::string halt_file = "/etc/caretaker/HALT";
  std::vector<HaproxyConfig> haproxy;
  // [defaults] haproxy_unresponsive_deadline: how long a change (set state,
  // set weight) keeps re-reading an HAProxy instance that stopped answering
  // (a reload, a stopped process) before the member fails, held out of traffic.
  Millis haproxy_unresponsive_deadline{30000};
  MysqlConfig mysql;
  std::vector<PoolConfig> pools;
  std::vector<TaskConfig> tasks;
  RollConfig roll;
  ServeConfig serve;
  ApiConfig api;                                // [api]
  std::vector<RuleConfig> rules;
  std::vector<MonitorServerConfig> prometheus;  // [[prometheus]]
  std::vector<MonitorServerConfig> graphite;    // [[graphite]]
  std::vector<NotifyConfig> notify;             // [[notify]]

  const HaproxyConfig* FindHaproxy(std::string_view name) const;
  const PoolConfig* FindPool(std::string_view name) const;
  const TaskConfig* FindTask(std::string_view name) const;
  const RuleConfig* FindRule(std::string_view name) const;
};

// Reads and validates the file at `path`. The error's message is
// "file:line:col: key.path: what is wrong" (a missing file: "file: reason").
Result<Config> LoadConfig(const std::string& path);
// The same for a document already in memory; `path` is used in messages only.
Result<Config> ParseConfig(std::string_view toml_text, const std::string& path);

// Whether `pool`'s capacity policy can ever let a member out, and never the
// whole pool at once (policies::ValidatePolicy on its configured size). The
// error is "file:line:column: pools[i]: pool NAME: what is wrong; how to fix";
// a pool of one member is always refused: it can only go out whole.
Result<void> CheckPoolPolicy(const Config& config, const PoolConfig& pool);

// Parses "250ms", "5s", "10m", "3h", "1d" (one integer and one unit).
std::optional<Millis> ParseDuration(std::string_view text);
std::string FormatDuration(Millis d);  // the inverse, shortest exact unit

// Reads the MySQL password: from password_file (refused, as ssh refuses a
// private key, when group or others may read it), else from the environment
// variable password_env, else empty. The error says what to fix and never
// contains the password. One trailing newline ("\n" or "\r\n") of the file is
// not part of the password. A file or variable that is named but empty is an
// error: it is a secret that was not provisioned, not an empty password.
Result<std::string> ReadMysqlPassword(const MysqlConfig& mysql);

// A secret other than the MySQL password (a bearer token, a basic-auth
// password, a webhook's header) from the file at `path`, by the same rules:
// refused when group or others may access it, one trailing newline dropped,
// empty refused. `what` names it in messages ("bearer_token_file of
// [[prometheus]] main"); the secret itself never appears in one.
Result<std::string> ReadSecretFile(const std::string& path, const std::string& what);

// `text` with {host} {port} {server} {pool} replaced in one pass (a value
// holding "{pool}" is not expanded again); each value passed through `quote`
// when one is given (a shell's quoting, for a step's command line).
std::string ExpandPlaceholders(std::string_view text, const PoolConfig& pool, const MemberConfig& member,
                               std::string (*quote)(std::string_view) = nullptr);

}  // namespace caretaker
