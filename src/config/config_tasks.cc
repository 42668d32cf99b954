// The [[tasks]] tables (what a rolling walk runs on each host while it is out
// of traffic) and the [roll] table (limits of rolling walks).
#include <algorithm>
#include <array>
#include <map>
#include <string>
#include <vector>

#include "src/config/config_reader.h"

namespace caretaker {

const char* StepTransportName(StepTransport transport) {
  return transport == StepTransport::kSsh ? "ssh" : "local";
}

namespace config_detail {
namespace {

constexpr Millis kStepTimeout{std::chrono::minutes(10)};
constexpr Millis kRetryDelay{5000};
constexpr int kMaxRetries = 100;
constexpr uint16_t kSshPort = 22;
constexpr int64_t kMaxConcurrentHosts = 10000;

// What ExpandStep replaces in a command (see StepConfig).
constexpr std::array<std::string_view, 4> kPlaceholders{"host", "port", "server", "pool"};
constexpr std::string_view kKnownPlaceholders = "{host}, {port}, {server}, {pool}";
constexpr std::string_view kCommandForms = "an array of strings (argv) or a string (run by sh -c)";

bool IsPlaceholderChar(char c) { return (c >= 'a' && c <= 'z') || c == '_'; }

// Checks one piece of a command: a string that is not empty and whose
// placeholders are known. False after recording an error.
bool CheckCommandText(ErrorSink& sink, const toml::node& node, const std::string& path) {
  const auto* s = node.as_string();
  if (!s) {
    sink.Fail(node.source(), path, "expected a string, got " + DescribeType(node));
    return false;
  }
  if (s->get().find_first_not_of(" \t\r\n") == std::string::npos) {
    sink.Fail(node.source(), path, "must not be empty");
    return false;
  }
  std::string why = CheckPlaceholders(s->get());
  if (!why.empty()) sink.Fail(node.source(), path, why);
  return why.empty();
}

// The command as written: argv joined by spaces, or the shell string.
std::string CommandAsWritten(const StepConfig& step) {
  if (step.argv.empty()) return step.shell;
  std::string out;
  for (const std::string& arg : step.argv) out += (out.empty() ? "" : " ") + arg;
  return out;
}

StepConfig ReadStep(TableReader& t) {
  t.CheckKeys({"name", "command", "timeout", "retries", "retry_delay", "safe_to_repeat"});
  StepConfig s;
  ReadCommand(t, s);
  s.name = t.String("name", CommandAsWritten(s));
  s.timeout = t.Timeout("timeout", kStepTimeout);
  s.retries = static_cast<int>(t.Int("retries", s.retries, 0, kMaxRetries));
  s.retry_delay = t.Timeout("retry_delay", kRetryDelay);
  s.safe_to_repeat = t.Bool("safe_to_repeat", s.safe_to_repeat);
  s.line = t.table().source().begin.line;
  return s;
}

std::vector<StepConfig> ReadSteps(TableReader& task) {
  std::vector<StepConfig> out;
  auto tables = task.Tables("steps", "[[tasks.steps]]");
  for (size_t i = 0; i < tables.size() && task.sink().ok(); ++i) {
    TableReader t(task.sink(), *tables[i], Index(task.PathOf("steps"), i));
    out.push_back(ReadStep(t));
  }
  return out;
}

StepTransport ReadTransport(TableReader& t) {
  std::string name = t.String("transport", StepTransportName(StepTransport::kLocal));
  if (name == StepTransportName(StepTransport::kSsh)) return StepTransport::kSsh;
  if (name != StepTransportName(StepTransport::kLocal) && t.sink().ok()) {
    t.Fail(t.table().get("transport"), "transport", "expected \"local\" or \"ssh\", got " + Quote(name));
  }
  return StepTransport::kLocal;
}

// [tasks.ssh]: only meaningful, and so only allowed, with transport = "ssh".
SshConfig ReadSsh(TableReader& task, StepTransport transport) {
  SshConfig ssh;
  const toml::table* table = task.SubTable("ssh");
  if (!table) return ssh;
  if (transport != StepTransport::kSsh) {
    task.Fail(table, "ssh",
              "[tasks.ssh] is used only with transport = \"ssh\" (this task's is \"local\"): set "
              "transport = \"ssh\" or remove the table");
    return ssh;
  }
  TableReader t(task.sink(), *table, task.PathOf("ssh"));
  t.CheckKeys({"user", "port", "options"});
  ssh.user = t.String("user", "");
  // It becomes part of ssh's "user@host" argument: no option, no second '@'.
  if (!ssh.user.empty() && (ssh.user[0] == '-' || ssh.user.find_first_of("@ \t") != std::string::npos)) {
    t.Fail(table->get("user"), "user", "expected a login name, got " + Quote(ssh.user));
    return ssh;
  }
  ssh.port = t.Port("port", kSshPort);
  auto options = t.Strings("options");
  for (size_t i = 0; options && i < options->size(); ++i) {
    const auto& [option, node] = (*options)[i];
    if (option.empty()) {
      t.sink().Fail(node->source(), Index(t.PathOf("options"), i), "must not be empty");
      return ssh;
    }
    ssh.options.push_back(option);
  }
  return ssh;
}

// gates_off: names of gates; mysqld off means no probe, so every gate off.
GatesOff ReadGatesOff(TableReader& t) {
  GatesOff off;
  auto names = t.Strings("gates_off");
  if (!names) return off;
  for (size_t i = 0; i < names->size(); ++i) {
    const auto& [name, node] = (*names)[i];
    if (name == "mysqld") off.mysqld = true;
    else if (name == "replication") off.replication = true;
    else if (name == "catch-up") off.catch_up = true;
    else if (name == "warm-up") off.warmup = true;
    else {
      t.sink().Fail(node->source(), Index(t.PathOf("gates_off"), i),
                    "unknown gate " + Quote(name) +
                        " (valid: \"mysqld\", \"replication\", \"catch-up\", \"warm-up\")");
      return GatesOff{};
    }
  }
  if (off.mysqld && !(off.replication && off.catch_up && off.warmup)) {
    t.Fail(t.table().get("gates_off"), "gates_off",
           "turning off mysqld turns off every gate: list \"replication\", \"catch-up\" and \"warm-up\" as well");
    return GatesOff{};
  }
  return off;
}

TaskConfig ReadTask(TableReader& t, std::map<std::string, FirstUse>& names) {
  TaskConfig task;
  t.CheckKeys({"name", "description", "transport", "gates_off", "ssh", "steps", "bake"});
  task.name = t.Name("name", NameChars::kPlain, std::nullopt);
  CheckUnique(t, "name", task.name, names);
  task.description = t.String("description", "");
  task.transport = ReadTransport(t);
  task.ssh = ReadSsh(t, task.transport);
  task.gates_off = ReadGatesOff(t);
  task.steps = ReadSteps(t);
  task.line = t.table().source().begin.line;
  task.column = t.table().source().begin.column;
  return task;
}

}  // namespace

// Why `text` is refused, or "" when it is not. Only "{word}" with word of
// [a-z_]+ reads as a placeholder, so braces meant for a shell or a program
// ("awk '{print $1}'", "find -exec rm {} +", "${HOME}", "{a,b}") pass. The
// exceptions: an unknown word (a typo like "{hots}" would reach the host
// unreplaced), and "${known}", which is replaced too and leaves a "$" before
// the value. "${other}" is shell parameter expansion and passes.
std::string CheckPlaceholders(std::string_view text) {
  for (size_t open = text.find('{'); open != std::string_view::npos; open = text.find('{', open + 1)) {
    size_t close = open + 1;
    while (close < text.size() && IsPlaceholderChar(text[close])) ++close;
    if (close == open + 1 || close == text.size() || text[close] != '}') continue;
    std::string_view word = text.substr(open + 1, close - open - 1);
    bool known = std::find(kPlaceholders.begin(), kPlaceholders.end(), word) != kPlaceholders.end();
    bool after_dollar = open > 0 && text[open - 1] == '$';
    std::string placeholder = "{" + std::string(word) + "}";
    if (known && after_dollar) {
      return Quote("$" + placeholder) + " would leave a \"$\" before the value of " + placeholder +
             ": write " + placeholder + " without \"$\"";
    }
    if (!known && !after_dollar) {
      return "unknown placeholder " + Quote(placeholder) + " (known: " + std::string(kKnownPlaceholders) +
             "); braces meant literally need a space inside, as in " + Quote("{ " + std::string(word) + " }");
    }
  }
  return "";
}


void ReadCommand(TableReader& t, StepConfig& step) {
  const toml::node* node = t.table().get("command");
  if (!node) {
    t.Fail(nullptr, "command", "missing (required): " + std::string(kCommandForms));
    return;
  }
  std::string path = t.PathOf("command");
  if (node->is_string()) {
    if (CheckCommandText(t.sink(), *node, path)) step.shell = node->as_string()->get();
    return;
  }
  const auto* array = node->as_array();
  if (!array || array->empty()) {
    t.Fail(node, "command", "expected " + std::string(kCommandForms) + ", got " +
                                (array ? std::string("an empty array") : DescribeType(*node)));
    return;
  }
  std::vector<std::string> argv;
  for (size_t i = 0; i < array->size(); ++i) {
    if (!CheckCommandText(t.sink(), *array->get(i), Index(path, i))) return;
    argv.push_back(array->get(i)->as_string()->get());
  }
  step.argv = std::move(argv);
}


std::vector<TaskConfig> ReadTasks(TableReader& root) {
  std::vector<TaskConfig> out;
  if (!root.table().get("tasks")) return out;  // tasks are optional
  std::map<std::string, FirstUse> names;
  auto tables = root.Tables("tasks", "[[tasks]]");
  for (size_t i = 0; i < tables.size() && root.sink().ok(); ++i) {
    TableReader t(root.sink(), *tables[i], Index("tasks", i));
    out.push_back(ReadTask(t, names));
  }
  return out;
}

RollConfig ReadRoll(TableReader& root) {
  RollConfig roll;
  const toml::table* table = root.SubTable("roll");
  if (!table) return roll;
  TableReader t(root.sink(), *table, "roll");
  t.CheckKeys({"max_concurrent_hosts", "pause_deadline"});
  roll.max_concurrent_hosts =
      static_cast<int>(t.Int("max_concurrent_hosts", roll.max_concurrent_hosts, 1, kMaxConcurrentHosts));
  roll.pause_deadline = t.Timeout("pause_deadline", roll.pause_deadline);
  return roll;
}

}  // namespace config_detail

std::string ExpandPlaceholders(std::string_view text, const PoolConfig& pool, const MemberConfig& member,
                               std::string (*quote)(std::string_view)) {
  const std::array<std::pair<std::string_view, std::string>, 4> values{{
      {"{host}", member.host},
      {"{port}", std::to_string(member.port)},
      {"{server}", member.server},
      {"{pool}", pool.name},
  }};
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    for (const auto& [placeholder, value] : values) {
      if (text.substr(i, placeholder.size()) != placeholder) continue;
      out += quote ? quote(value) : value;
      i += placeholder.size();
      replaced = true;
      break;
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

}  // namespace caretaker
