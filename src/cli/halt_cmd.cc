// See halt_cmd.h.
#include "src/cli/halt_cmd.h"

#include <sys/stat.h>

#include <boost/json.hpp>

#include "src/cli/exit_code.h"
#include "src/run/views.h"
#include "src/store/state_open.h"

namespace caretaker {
namespace {

bool Exists(const std::string& path) {
  struct stat st {};
  return !path.empty() && ::stat(path.c_str(), &st) == 0;
}

int ShowStatus(const Config& config, StateStore* store, const std::string& open_error, const MaintIo& io,
               bool json) {
  HaltCheck check = CheckHalt(store, config.halt_file);
  std::optional<HaltRecord> record;
  if (store) {
    if (auto read = store->ReadHalt(); read) record = read.value();
  }
  const bool file = Exists(config.halt_file);
  if (json) {
    boost::json::object doc = HaltView(check, record);
    doc["halt_file"] = boost::json::object{{"path", config.halt_file}, {"exists", file}};
    doc["store"] = StateStorePath(config);
    if (!open_error.empty()) doc["error"] = open_error;
    io.out << JsonText(doc) << "\n";
  } else if (!check.halted) {
    io.out << "not halted: automated actions may start (halt file " << config.halt_file << " absent)\n";
  } else {
    io.out << "HALTED: " << check.why << "\n";
    if (record && file) io.out << "also: the halt file " << config.halt_file << " exists\n";
    if (!open_error.empty()) io.out << "the state store: " << open_error << "\n";
  }
  return open_error.empty() ? 0 : kExitFailed;
}

}  // namespace

int RunHalt(const Config& config, const HaltOptions& options, const MaintIo& io) {
  const std::string who = options.who.empty() ? OperatorName() : options.who;
  auto store = OpenStateStore(config, who + " (caretaker halt)");
  if (options.status) {
    return ShowStatus(config, store ? store.value().get() : nullptr, store ? "" : store.error().message, io,
                      options.json);
  }
  if (options.reason.find_first_not_of(" \t") == std::string::npos) {
    io.err << "caretaker: halt needs --reason: say why (it is shown to everyone whose walk stops)\n";
    return kExitUsage;
  }
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n"
           << "caretaker: the halt was NOT recorded; to halt anyway, create the halt file: touch " << config.halt_file
           << "\n";
    return kExitFailed;
  }
  auto before = store.value()->ReadHalt();
  auto set = store.value()->SetHalt({who, options.reason, NowSeconds(), options.abort});
  if (!set) {
    io.err << "caretaker: " << set.error().message << "\n"
           << "caretaker: the halt was NOT recorded; to halt anyway: touch " << config.halt_file << "\n";
    return kExitFailed;
  }
  if (before && before.value()) {
    io.err << "caretaker: (it was already halted by " << before.value()->who << ": " << before.value()->reason
           << "; the new reason replaces it)\n";
  }
  io.out << "halted: no automated action starts a drain or a step until `caretaker resume`; "
         << (options.abort ? "running steps are being killed, their hosts stay out of traffic\n"
                           : "running steps finish (halt --abort kills them)\n");
  return 0;
}

int RunResume(const Config& config, const std::string& who_option, const MaintIo& io) {
  const std::string who = who_option.empty() ? OperatorName() : who_option;
  auto store = OpenStateStore(config, who + " (caretaker resume)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n";
    return kExitFailed;
  }
  auto was = store.value()->ClearHalt(who);
  if (!was) {
    io.err << "caretaker: " << was.error().message << "\n";
    return kExitFailed;
  }
  if (was.value()) {
    io.out << "resumed: the halt set by " << was.value()->who << " (" << was.value()->reason << ") is lifted\n";
  } else {
    io.out << "not halted: nothing to resume\n";
  }
  if (Exists(config.halt_file)) {
    io.err << "caretaker: the halt file " << config.halt_file << " still halts everything: remove it to resume\n";
    return kExitFailed;
  }
  return 0;
}

}  // namespace caretaker
