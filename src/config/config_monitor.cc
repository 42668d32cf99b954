// The [[prometheus]] and [[graphite]] tables (the monitoring servers rules
// and bakes ask over HTTP), and the http urls and secret paths they, and
// [[notify]], are written with.
#include <charconv>
#include <map>
#include <string>
#include <vector>

#include "src/config/config_reader.h"

namespace caretaker {
namespace config_detail {

bool ParsePort(std::string_view text, uint16_t& port) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v == 0 || v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

std::string ParseHttpUrl(const std::string& url, std::string& out_host, uint16_t& out_port, std::string& out_path) {
  constexpr std::string_view kScheme = "http://";
  if (url.starts_with("https://")) {
    return "https is not supported yet: reach the server over http on a trusted network, or through a local proxy";
  }
  if (!url.starts_with(kScheme)) return "expected http://HOST[:PORT][/PATH], got " + Quote(url);
  std::string_view rest = std::string_view(url).substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  while (path.ends_with('/')) path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) {
    return "credentials in the url are refused: use bearer_token_file or basic_user with basic_password_file";
  }
  if (path.find_first_of("?#") != std::string_view::npos) return "the url must not have a query or fragment";
  std::string_view host = authority;
  uint16_t port = 80;
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    host = authority.substr(0, colon);
    if (!ParsePort(authority.substr(colon + 1), port)) return "the port of " + Quote(url) + " is not 1-65535";
  }
  if (host.empty()) return "the url " + Quote(url) + " has no host";
  out_host = std::string(host);
  out_port = port;
  out_path = std::string(path);
  return "";
}

std::string ReadSecretPath(TableReader& t, std::string_view key) {
  std::string path = t.String(key, "");
  if (!path.empty() && path.front() != '/') t.Fail(t.table().get(key), key, "expected an absolute path, got " + Quote(path));
  return path;
}

std::vector<MonitorServerConfig> ReadMonitorServers(TableReader& root, std::string_view key) {
  std::vector<MonitorServerConfig> out;
  if (!root.table().get(key)) return out;
  const std::string header = "[[" + std::string(key) + "]]";
  std::map<std::string, FirstUse> names;
  auto tables = root.Tables(key, header);
  for (size_t i = 0; i < tables.size() && root.sink().ok(); ++i) {
    TableReader t(root.sink(), *tables[i], Index(std::string(key), i));
    t.CheckKeys({"name", "url", "timeout", "bearer_token_file", "basic_user", "basic_password_file"});
    MonitorServerConfig m;
    m.line = t.table().source().begin.line;
    m.name = t.Name("name", NameChars::kPlain, std::string(key));
    CheckUnique(t, "name", m.name, names);
    m.url = t.String("url", std::nullopt);
    if (t.sink().ok()) {
      std::string why = ParseHttpUrl(m.url, m.host, m.port, m.path_prefix);
      if (!why.empty()) t.Fail(t.table().get("url"), "url", why);
    }
    m.timeout = t.Timeout("timeout", m.timeout);
    m.bearer_token_file = ReadSecretPath(t, "bearer_token_file");
    m.basic_user = t.String("basic_user", "");
    m.basic_password_file = ReadSecretPath(t, "basic_password_file");
    if (!m.basic_user.empty() && m.basic_password_file.empty()) {
      t.Fail(t.table().get("basic_user"), "basic_user", "needs basic_password_file (the password is never in the config)");
    } else if (m.basic_user.empty() && !m.basic_password_file.empty()) {
      t.Fail(t.table().get("basic_password_file"), "basic_password_file", "needs basic_user");
    }
    if (!m.bearer_token_file.empty() && !m.basic_user.empty()) {
      t.Fail(t.table().get("bearer_token_file"), "bearer_token_file", "give a bearer token or basic auth, not both");
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace config_detail
}  // namespace caretaker
