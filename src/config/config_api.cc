// The [api] table: where serve's HTTP side listens and who may use it.
#include <arpa/inet.h>

#include <string>

#include "src/config/config_reader.h"

namespace caretaker {
namespace config_detail {

namespace {

// "A.B.C.D:PORT" into host and port; "" or why not.
std::string ParseListen(const std::string& text, std::string& host, uint16_t& port) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || text.find('[') != std::string::npos) {
    return "expected IPV4-ADDRESS:PORT (\"127.0.0.1:9187\"), got " + Quote(text);
  }
  std::string h = text.substr(0, colon);
  in_addr addr{};
  if (::inet_pton(AF_INET, h.c_str(), &addr) != 1) {
    return "expected an IPv4 address before the port (\"127.0.0.1:9187\", \"0.0.0.0:9187\"), got " + Quote(h);
  }
  if (!ParsePort(std::string_view(text).substr(colon + 1), port)) return "the port of " + Quote(text) + " is not 1-65535";
  host = h;
  return "";
}

bool Loopback(const std::string& host) { return host.starts_with("127."); }

}  // namespace

ApiConfig ReadApi(TableReader& root) {
  ApiConfig api;
  const toml::table* table = root.SubTable("api");
  if (!table) return api;
  TableReader t(root.sink(), *table, "api");
  t.CheckKeys({"listen", "tokens_file", "tls_cert", "tls_key", "allow_insecure_remote", "metrics_public", "hosts"});
  api.enabled = true;
  std::string listen = t.String("listen", "127.0.0.1:9187");
  if (!t.sink().ok()) return api;
  if (std::string why = ParseListen(listen, api.listen_host, api.listen_port); !why.empty()) {
    t.Fail(t.table().get("listen"), "listen", why);
    return api;
  }
  api.tokens_file = ReadSecretPath(t, "tokens_file");
  if (t.sink().ok() && api.tokens_file.empty()) {
    t.Fail(nullptr, "tokens_file",
           "required: a file of mode 0600 with one line per token, \"NAME ROLE SHA256-HEX\" (ROLE viewer or "
           "operator; `caretaker api-token NAME ROLE` makes one)");
    return api;
  }
  api.tls_cert = ReadSecretPath(t, "tls_cert");  // an absolute path (not a secret itself)
  api.tls_key = ReadSecretPath(t, "tls_key");
  if (t.sink().ok() && api.tls_cert.empty() != api.tls_key.empty()) {
    const char* missing = api.tls_cert.empty() ? "tls_cert" : "tls_key";
    t.Fail(t.table().get(api.tls_cert.empty() ? "tls_key" : "tls_cert"), missing,
           std::string("required with ") + (api.tls_cert.empty() ? "tls_key" : "tls_cert") +
               ": HTTPS needs the certificate chain (tls_cert) and its private key (tls_key), both PEM files");
    return api;
  }
  api.allow_insecure_remote = t.Bool("allow_insecure_remote", false);
  api.metrics_public = t.Bool("metrics_public", false);
  if (t.sink().ok() && !Loopback(api.listen_host) && api.tls_cert.empty() && !api.allow_insecure_remote) {
    t.Fail(t.table().get("listen"), "listen",
           Quote(listen) + " is not a loopback address, and the API has no TLS: tokens would cross the network "
           "in the clear; set tls_cert and tls_key, or put a TLS proxy in front and listen on 127.0.0.1, or set "
           "allow_insecure_remote = true");
    return api;
  }
  if (auto names = t.Strings("hosts")) {
    for (const StringItem& n : *names) {
      if (n.value.empty() || n.value.find_first_of(" /:@") != std::string::npos) {
        t.Fail(n.node, "hosts", "expected a host name without port or scheme, got " + Quote(n.value));
        return api;
      }
      api.hosts.push_back(n.value);
    }
  }
  return api;
}

}  // namespace config_detail
}  // namespace caretaker
