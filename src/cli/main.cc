// caretaker: rolling maintenance of MySQL/MariaDB replica pools behind HAProxy.
//
// The CLI is a table of subcommands. Exit codes are stable: 0 ok, 1 the
// operation failed, 2 bad usage or config, 3 refused by a safety rule.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <string>

#include "src/base/log.h"
#include "src/cli/exit_code.h"
#include "src/cli/api_token_cmd.h"
#include "src/cli/audit_cmd.h"
#include "src/cli/halt_cmd.h"
#include "src/cli/job_cmd.h"
#include "src/cli/maint_cmd.h"
#include "src/cli/roll_cmd.h"
#include "src/cli/rules_cmd.h"
#include "src/cli/serve_cmd.h"
#include "src/cli/status_cmd.h"
#include "src/run/config_check.h"
#include "src/config/config.h"

namespace caretaker {
namespace {

constexpr int kExitOk = 0;
constexpr const char* kDefaultConfig = "/etc/caretaker/caretaker.toml";

struct GlobalOptions {
  std::string config_path;
  std::string log_format = "human";
  std::string log_level = "info";
};

// Loads the config or prints why not; nullopt means exit 2.
std::optional<Config> Load(const GlobalOptions& g) {
  auto config = LoadConfig(g.config_path);
  if (!config) {
    std::cerr << "caretaker: " << config.error().message << "\n";
    if (g.config_path == kDefaultConfig) {
      std::cerr << "caretaker: (that is the default path: pass -c FILE or set CARETAKER_CONFIG)\n";
    }
    return std::nullopt;
  }
  return std::move(config.value());
}

// Loads the config and runs `run` with it; exit 2 when it does not load.
int WithConfig(const GlobalOptions& g, const std::function<int(const Config&)>& run) {
  auto config = Load(g);
  return config ? run(*config) : kExitUsage;
}

int RunCheck(const GlobalOptions& g) {
  auto config = Load(g);
  if (!config) return kExitUsage;
  const ConfigCheck check = CheckConfig(*config);
  for (const std::string& e : check.errors) std::cerr << "caretaker: " << e << "\n";
  if (!check.errors.empty()) return kExitUsage;
  std::cout << check.summary << "\n";
  for (const std::string& p : check.policies) std::cout << p << "\n";
  return kExitOk;
}

MaintIo StdIo() {
  bool color = isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
  return MaintIo{std::cout, std::cerr, isatty(STDERR_FILENO) != 0, color};
}

// maint start / stop / list.
struct MaintArgs {
  MaintStartOptions start;
  std::string for_text;
  MaintStopOptions stop;
  bool list_json = false;
};

void AddMaint(CLI::App& app, const GlobalOptions& g, MaintArgs& args, int& code) {
  auto* maint = app.add_subcommand("maint", "take one member out of traffic for maintenance, and put it back");
  maint->require_subcommand(1);

  MaintStartOptions& start_options = args.start;
  std::string& for_text = args.for_text;
  auto* start = maint->add_subcommand("start", "drain HOST on every instance and set MAINT (capacity permitting)");
  start->add_option("HOST", start_options.host, "member: server name, POOL/SERVER, host or host:port")->required();
  start->add_option("--reason", start_options.reason, "why (recorded, shown by maint list)")->required();
  start->add_option("--for", for_text, "how long it is expected to be out, e.g. 4h (recorded as `until`)");
  start->add_flag("--force-sessions", start_options.force_sessions,
                  "at the drain deadline, shut down the sessions left instead of giving up");
  start->callback([&] {
    code = WithConfig(g, [&](const Config& config) {
      if (start_options.reason.find_first_not_of(" \t") == std::string::npos) {
        std::cerr << "caretaker: --reason must say why (it is recorded and shown to others)\n";
        return kExitUsage;
      }
      if (!for_text.empty()) {
        start_options.for_duration = ParseDuration(for_text);
        if (!start_options.for_duration || start_options.for_duration->count() <= 0) {
          std::cerr << "caretaker: --for: expected a duration like \"30m\" or \"4h\", got \"" << for_text << "\"\n";
          return kExitUsage;
        }
      }
      return RunMaintStart(config, start_options, StdIo());
    });
  });

  MaintStopOptions& stop_options = args.stop;
  auto* stop = maint->add_subcommand("stop", "put HOST back once mysqld, replication, catch-up and warm-up pass");
  stop->add_option("HOST", stop_options.host, "member: server name, POOL/SERVER, host or host:port")->required();
  stop->callback([&] {
    code = WithConfig(g, [&](const Config& config) { return RunMaintStop(config, stop_options, StdIo()); });
  });

  bool& list_json = args.list_json;
  auto* list = maint->add_subcommand("list", "members in maintenance: who, why, since, until");
  list->add_flag("--json", list_json, "one JSON object for scripts");
  list->callback([&] {
    code = WithConfig(g, [&](const Config& config) { return RunMaintList(config, list_json, StdIo()); });
  });
}

// plan and roll share the options that say what to walk.
void AddWalkOptions(CLI::App* cmd, RollOptions& o) {
  cmd->add_option("--pool", o.pools, "pool(s) to walk, comma-separated")->required()->delimiter(',');
  cmd->add_option("--task", o.task, "the [[tasks]] entry to run on each member")->required();
  cmd->add_option("--limit", o.limit, "only these members: names or globs (db1, 'db[12]', 'replicas/*', host:port)")
      ->delimiter(',');
  cmd->add_option("--order", o.order, "after members already out of service: config (default), reverse or name");
  cmd->add_option("--max-failures", o.max_failures, "failed members before the walk stops (default 1)");
  cmd->add_flag("--force-sessions", o.force_sessions,
                "at the drain deadline, shut down the sessions left instead of giving up");
}

// jobs, job show|cancel|restore|retry.
struct JobArgs {
  bool list_json = false;
  int64_t id = 0;
  bool json = false;
  size_t from_step = 0;
  bool yes = false;
};

void AddJobs(CLI::App& app, const GlobalOptions& g, JobArgs& a, int& code) {
  auto* jobs = app.add_subcommand("jobs", "the last jobs (one per pool a roll walked): state, members done");
  jobs->add_flag("--json", a.list_json, "one JSON object for scripts");
  jobs->callback([&] { code = WithConfig(g, [&](const Config& c) { return RunJobs(c, a.list_json, StdIo()); }); });

  auto* job = app.add_subcommand("job", "one job: show, cancel, retry or restore it");
  job->require_subcommand(1);
  auto* show = job->add_subcommand("show", "the job and where each of its members is");
  show->add_option("ID", a.id, "job id (`caretaker jobs`)")->required();
  show->add_flag("--json", a.json, "one JSON object for scripts");
  show->callback([&] { code = WithConfig(g, [&](const Config& c) { return RunJobShow(c, a.id, a.json, StdIo()); }); });
  auto* cancel = job->add_subcommand("cancel", "stop a running job, drop a queued one, unblock a failed one's pool");
  cancel->add_option("ID", a.id, "job id")->required();
  cancel->callback([&] { code = WithConfig(g, [&](const Config& c) { return RunJobCancel(c, a.id, StdIo()); }); });
  auto* restore = job->add_subcommand("restore", "put back, through the gates, the hosts the job left out of traffic");
  restore->add_option("ID", a.id, "job id")->required();
  restore->callback([&] { code = WithConfig(g, [&](const Config& c) { return RunJobRestore(c, a.id, StdIo()); }); });
  auto* retry = job->add_subcommand("retry", "go on with a failed, stopped or orphaned job from where it stopped");
  retry->add_option("ID", a.id, "job id")->required();
  retry->add_option("--from-step", a.from_step, "pick the interrupted member up at step N (1-based; N = steps + 1: "
                                                "its steps are done)")->check(CLI::PositiveNumber);
  retry->add_flag("--yes,-y", a.yes, "do not ask for confirmation on a terminal");
  retry->callback([&] {
    code = WithConfig(g, [&](const Config& c) {
      RollOptions o;
      o.retry_job = a.id;
      o.yes = a.yes;
      if (a.from_step) o.from_step = a.from_step;
      return RunRoll(c, o, StdIo(), std::cin, isatty(STDIN_FILENO) != 0);
    });
  });
}

void AddRoll(CLI::App& app, const GlobalOptions& g, RollOptions& plan, RollOptions& roll, int& code) {
  auto* p = app.add_subcommand("plan", "what a roll would do: waves, HAProxy and step commands (changes nothing)");
  AddWalkOptions(p, plan);
  p->add_flag("--json", plan.json, "one JSON object for scripts");
  p->callback([&] { code = WithConfig(g, [&](const Config& config) { return RunPlan(config, plan, StdIo()); }); });

  auto* r = app.add_subcommand("roll", "walk pools through a task: drain, steps, gates, back, member by member");
  AddWalkOptions(r, roll);
  r->add_flag("--dry-run", roll.dry_run, "print the plan and stop");
  r->add_flag("--yes,-y", roll.yes, "do not ask for confirmation on a terminal");
  r->add_flag("--queue", roll.queue, "add the jobs for `caretaker serve` instead of walking now")
      ->excludes("--dry-run");
  r->callback([&] {
    code = WithConfig(g, [&](const Config& config) {
      return RunRoll(config, roll, StdIo(), std::cin, isatty(STDIN_FILENO) != 0);
    });
  });
}

// rules, rules test NAME, rules reset NAME.
struct RulesArgs {
  bool json = false;
  RulesTestOptions test;
  std::string reset;
};

void AddRules(CLI::App& app, const GlobalOptions& g, RulesArgs& a, int& code) {
  auto* rules = app.add_subcommand("rules", "each rule: its members' states, actions in the rate window, the breaker");
  rules->add_flag("--json", a.json, "one JSON object for scripts");
  auto* test = rules->add_subcommand("test", "evaluate a rule once now: what it would do, what each guard says (changes nothing)");
  test->add_option("NAME", a.test.rule, "the rule")->required();
  test->add_option("--member", a.test.member, "only this member: server name or POOL/SERVER");
  test->add_flag("--json", a.test.json, "one JSON object for scripts");
  test->callback([&] { code = WithConfig(g, [&](const Config& c) { return RunRulesTest(c, a.test, StdIo()); }); });
  auto* reset = rules->add_subcommand("reset", "close a rule's tripped breaker: it acts again (audited)");
  reset->add_option("NAME", a.reset, "the rule")->required();
  reset->callback([&] { code = WithConfig(g, [&](const Config& c) { return RunRulesReset(c, a.reset, StdIo()); }); });
  rules->callback([&, rules] {
    if (!rules->get_subcommands().empty()) return;
    code = WithConfig(g, [&](const Config& c) { return RunRules(c, a.json, StdIo()); });
  });
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{"caretaker: rolling maintenance of MySQL/MariaDB replica pools behind HAProxy"};
  app.require_subcommand(0, 1);
  app.fallthrough();  // global options may also follow the subcommand
  app.set_version_flag("--version", "caretaker 0.1.0");
  GlobalOptions g;
  const char* env_config = std::getenv("CARETAKER_CONFIG");
  g.config_path = env_config && *env_config ? env_config : kDefaultConfig;
  app.add_option("-c,--config", g.config_path, "configuration file (default: $CARETAKER_CONFIG or " +
                                                   std::string(kDefaultConfig) + ")");
  app.add_option("--log-format", g.log_format, "log lines on stderr: human or json")
      ->check(CLI::IsMember({"human", "json"}));
  app.add_option("--log-level", g.log_level, "debug, info, warn, error or off")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));

  int code = kExitOk;
  auto* check = app.add_subcommand("check", "validate the configuration (exit 0 valid, 2 invalid)");
  check->callback([&] { code = RunCheck(g); });

  StatusOptions status_options;
  auto* status = app.add_subcommand("status", "every pool and member, as each HAProxy instance sees it");
  status->add_flag("--json", status_options.json, "one JSON object for scripts");
  status->add_flag("--no-mysql", status_options.no_mysql, "HAProxy only: do not connect to the members' MySQL");
  status->callback([&] {
    code = WithConfig(g, [&](const Config& config) {
      status_options.color = !status_options.json && isatty(STDOUT_FILENO) && std::getenv("NO_COLOR") == nullptr;
      return RunStatus(config, status_options, std::cout);
    });
  });

  MaintArgs maint_args;
  AddMaint(app, g, maint_args, code);
  RollOptions plan_options, roll_options;
  AddRoll(app, g, plan_options, roll_options, code);
  JobArgs job_args;
  AddJobs(app, g, job_args, code);
  RulesArgs rules_args;
  AddRules(app, g, rules_args, code);

  HaltOptions halt_options;
  auto* halt = app.add_subcommand("halt", "stop every automated action everywhere (until `caretaker resume`)");
  auto* reason = halt->add_option("--reason", halt_options.reason, "why (shown to everyone whose walk stops)");
  auto* abort = halt->add_flag("--abort", halt_options.abort,
                               "also kill the steps running now (their hosts stay out of traffic)");
  auto* status_flag = halt->add_flag("--status", halt_options.status, "only show whether it is halted, by whom and why");
  halt->add_flag("--json", halt_options.json, "with --status: one JSON object for scripts")->needs(status_flag);
  status_flag->excludes(reason)->excludes(abort);
  halt->callback([&] {
    code = WithConfig(g, [&](const Config& config) { return RunHalt(config, halt_options, StdIo()); });
  });
  app.add_subcommand("resume", "lift the halt: automated actions may start again")->callback([&] {
    code = WithConfig(g, [&](const Config& config) { return RunResume(config, "", StdIo()); });
  });

  AuditOptions audit_options;
  auto* audit = app.add_subcommand("audit", "the audit trail, newest first: who changed what, why, and how it ended");
  audit->add_option("--who", audit_options.who, "only this actor (as the trail names them)");
  audit->add_option("--action", audit_options.action, "only actions starting so (\"maint.\" for every maint.*)");
  audit->add_option("--target", audit_options.target, "only targets starting so (\"pool-a/\" for a pool's members)");
  audit->add_option("--before", audit_options.before, "only entries older than this id (the page before's last)")
      ->check(CLI::PositiveNumber);
  audit->add_option("--limit", audit_options.limit, "at most this many entries (default 50)")
      ->check(CLI::Range(1, 10000));
  audit->add_flag("--json", audit_options.json, "one JSON object for scripts (as GET /api/v1/audit)");
  audit->callback([&] {
    code = WithConfig(g, [&](const Config& config) { return RunAudit(config, audit_options, StdIo()); });
  });

  std::string token_name, token_role;
  auto* token = app.add_subcommand("api-token", "make a token for the HTTP API: prints it and its tokens-file line");
  token->add_option("name", token_name, "who or what uses it (written to the audit trail)")->required();
  token->add_option("role", token_role, "viewer (reads), operator (reads and changes) or alertmanager (posts alerts only)")
      ->required()
      ->check(CLI::IsMember({"viewer", "operator", "alertmanager"}));
  token->callback([&] { code = RunApiToken(token_name, token_role, StdIo()); });

  app.add_subcommand("serve", "the daemon: queued and scheduled jobs, rules, crash recovery, expired maintenance")
      ->callback([&] { code = WithConfig(g, [&](const Config& config) { return RunServe(config, StdIo()); }); });

  app.add_subcommand("version", "print the version")->callback([&] { std::cout << "caretaker 0.1.0\n"; });

  app.parse_complete_callback([&] {
    LogFormat format = LogFormat::kHuman;
    LogLevel level = LogLevel::kInfo;
    ParseLogFormat(g.log_format, &format);
    ParseLogLevel(g.log_level, &level);
    InitLogging(format, level);
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  if (app.get_subcommands().empty()) {
    std::cerr << app.help() << "\ncaretaker: a subcommand is required\n";
    return kExitUsage;
  }
  return code;
}

}  // namespace caretaker

int main(int argc, char** argv) {
  try {
    return caretaker::Main(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "caretaker: internal error: " << e.what() << "\n";
    return 1;
  }
}
