// See state_open.h.
#include "src/store/state_open.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace caretaker {

std::string StateStorePath(const Config& config) { return config.state_dir + "/caretaker.db"; }

namespace {

// Moves the records of an earlier caretaker's maintenance.toml into the store.
Result<void> ImportTomlRecords(const Config& config, StateStore& store) {
  std::string path = config.state_dir + "/maintenance.toml";
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return boost::outcome_v2::success();
  auto records = OpenFileMaintRecords(path)->List();
  if (!records) {
    return Error{"cannot import the maintenance records of an earlier caretaker: " + records.error().message +
                 " — fix the file, or move it aside once its hosts are accounted for"};
  }
  for (const MaintRecord& r : records.value()) {
    auto existing = store.Find(r.pool, r.server);
    if (!existing) return existing.error();
    if (existing.value()) continue;
    if (auto put = store.Put(r); !put) return put;
  }
  std::string moved = path + ".imported";
  if (::rename(path.c_str(), moved.c_str()) != 0) {
    return Error{"imported " + path + " into the state store, but cannot rename it to " + moved + ": " +
                 std::strerror(errno)};
  }
  auto audited = store.Audit({0, {}, "", "store.imported", "",
                              std::to_string(records.value().size()) + " record(s) from " + path});
  if (!audited) return audited.error();
  return boost::outcome_v2::success();
}

}  // namespace

Result<std::unique_ptr<StateStore>> OpenStateStore(const Config& config, const std::string& actor) {
  auto store = OpenSqliteStore(StateStorePath(config));
  if (!store) return store.error();
  store.value()->SetActor(actor);
  if (auto imported = ImportTomlRecords(config, *store.value()); !imported) return imported.error();
  return store;
}

HaltCheck CheckHalt(const StateStore* store, const std::string& halt_file) {
  if (!halt_file.empty()) {
    struct stat st {};
    if (::stat(halt_file.c_str(), &st) == 0) {
      // Its first line, if any, says why (`echo "incident 4412" > HALT`).
      std::string line;
      std::ifstream in(halt_file);
      std::getline(in, line);
      if (line.size() > 200) line.resize(200);
      return {true, false, "the halt file " + halt_file + " exists" + (line.empty() ? "" : ": " + line) +
                               " (remove it to resume)"};
    }
    if (errno != ENOENT) {
      return {true, false, "cannot check the halt file " + halt_file + " (" + std::strerror(errno) +
                               "), so nothing starts (fail closed)"};
    }
  }
  if (!store) return {true, false, "no state store is open, so nothing starts (fail closed)"};
  auto halt = store->ReadHalt();
  if (!halt) return {true, false, "cannot read the halt switch, so nothing starts (fail closed): " + halt.error().message};
  if (!halt.value()) return {};
  const HaltRecord& h = *halt.value();
  return {true, h.abort, "halted by " + h.who + " since " + FormatUtc(h.since) + ": " + h.reason};
}

std::string OperatorName() {
  const char* user = std::getenv("SUDO_USER");
  if (!user || !*user) {
    const passwd* pw = ::getpwuid(::getuid());
    user = pw ? pw->pw_name : nullptr;
  }
  std::string name = user && *user ? user : "uid" + std::to_string(::getuid());
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return name + "@" + (host[0] ? host : "localhost");
}

std::string LockPath(const Config& config, const std::string& name) {
  return config.state_dir + "/locks/" + name + ".lock";
}

}  // namespace caretaker
