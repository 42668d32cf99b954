// The [[notify]] tables: webhooks told what automation did (config.h).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "src/config/config_reader.h"

namespace caretaker {
namespace config_detail {
namespace {

constexpr int kMaxRetries = 100;
constexpr int kMaxQueue = 1000000;

// A kind, or a prefix of kinds ("job.*").
bool KnownKind(const std::string& kind) {
  for (const char* k : kNotifyKinds) {
    if (kind == k) return true;
    if (kind.size() > 2 && kind.ends_with(".*") && std::string(k).starts_with(kind.substr(0, kind.size() - 1))) return true;
  }
  return false;
}

std::string Kinds() {
  std::string out;
  for (const char* k : kNotifyKinds) out += (out.empty() ? "" : ", ") + std::string(k);
  return out;
}

}  // namespace

std::vector<NotifyConfig> ReadNotify(TableReader& root, const std::vector<PoolConfig>& pools) {
  std::vector<NotifyConfig> out;
  if (!root.table().get("notify")) return out;
  std::map<std::string, FirstUse> names;
  auto tables = root.Tables("notify", "[[notify]]");
  for (size_t i = 0; i < tables.size() && root.sink().ok(); ++i) {
    TableReader t(root.sink(), *tables[i], Index("notify", i));
    t.CheckKeys({"name", "url", "events", "pools", "secret_header", "secret_file", "timeout", "retries", "queue"});
    NotifyConfig n;
    n.line = t.table().source().begin.line;
    n.name = t.Name("name", NameChars::kPlain, "notify" + (i == 0 ? std::string() : std::to_string(i + 1)));
    CheckUnique(t, "name", n.name, names);
    n.url = t.String("url", std::nullopt);
    if (t.sink().ok()) {
      std::string why = ParseHttpUrl(n.url, n.host, n.port, n.path);
      if (!why.empty()) t.Fail(t.table().get("url"), "url", why);
      if (n.path.empty()) n.path = "/";
    }
    if (auto items = t.Strings("events")) {
      for (const StringItem& item : *items) {
        if (!KnownKind(item.value)) {
          t.Fail(item.node, "events", Quote(item.value) + " is not an event kind (" + Kinds() + ", or a prefix as \"job.*\")");
          break;
        }
        n.events.push_back(item.value);
      }
    }
    if (auto items = t.Strings("pools")) {
      for (const StringItem& item : *items) {
        bool known = std::any_of(pools.begin(), pools.end(), [&](const PoolConfig& p) { return p.name == item.value; });
        if (!known) {
          t.Fail(item.node, "pools", "no pool is named " + Quote(item.value));
          break;
        }
        n.pools.push_back(item.value);
      }
    }
    n.secret_header = t.String("secret_header", "");
    n.secret_file = ReadSecretPath(t, "secret_file");
    if (n.secret_header.empty() != n.secret_file.empty()) {
      const char* key = n.secret_header.empty() ? "secret_file" : "secret_header";
      t.Fail(t.table().get(key), key, "secret_header and secret_file go together (the header's value is the file's text)");
    }
    n.timeout = t.Timeout("timeout", n.timeout);
    n.retries = static_cast<int>(t.Int("retries", n.retries, 0, kMaxRetries));
    n.queue = static_cast<int>(t.Int("queue", n.queue, 1, kMaxQueue));
    out.push_back(std::move(n));
  }
  return out;
}

}  // namespace config_detail
}  // namespace caretaker
