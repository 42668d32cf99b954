// serve's HTTP side, its pure parts: the [api] table, the tokens file (modes,
// lines, roles, digests), and the Prometheus text format writer.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "src/config/config.h"
#include "src/serve/api_tokens.h"
#include "src/serve/metrics_text.h"
#include "tests/unit/config_fixture.h"
#include "tests/unit/temp_dir.h"

namespace caretaker {

using namespace config_testing;

namespace {

// kValid (lines 1-8), then [api] on line 9 with `lines` from line 10.
std::string WithApi(const std::string& lines) { return kValid + "[api]\n" + lines; }

std::string WriteTokens(const TempDir& dir, const std::string& text, mode_t mode = 0600) {
  const std::string path = dir.path() + "/tokens";
  std::ofstream(path) << text;
  ::chmod(path.c_str(), mode);
  return path;
}

}  // namespace

TEST_CASE("[api] is off unless present, and listens on 127.0.0.1:9187 by default", "[config][api]") {
  auto off = ParseConfig(kValid, "ok.toml");
  REQUIRE(off);
  CHECK_FALSE(off.value().api.enabled);
  auto on = ParseConfig(WithApi("tokens_file = \"/etc/caretaker/tokens\"\nhosts = [\"caretaker.ops\"]\n"), "ok.toml");
  INFO((on ? std::string() : on.error().message));
  REQUIRE(on);
  CHECK(on.value().api.enabled);
  CHECK(on.value().api.listen_host == "127.0.0.1");
  CHECK(on.value().api.listen_port == 9187);
  CHECK(on.value().api.hosts == std::vector<std::string>{"caretaker.ops"});
  CHECK_FALSE(on.value().api.metrics_public);
  auto remote = ParseConfig(
      WithApi("listen = \"0.0.0.0:8080\"\ntokens_file = \"/t\"\nallow_insecure_remote = true\n"), "ok.toml");
  REQUIRE(remote);
  CHECK(remote.value().api.listen_port == 8080);
  // With TLS a remote address needs no more.
  auto tls = ParseConfig(
      WithApi("listen = \"0.0.0.0:8443\"\ntokens_file = \"/t\"\ntls_cert = \"/c.pem\"\ntls_key = \"/k.pem\"\n"), "ok.toml");
  REQUIRE(tls);
  CHECK(tls.value().api.tls_cert == "/c.pem");
  CHECK(tls.value().api.tls_key == "/k.pem");
}

TEST_CASE("[api]: each bad document gets one exact message", "[config][api]") {
  const std::vector<BadConfig> cases = {
      {WithApi(""), "bad.toml:9:1: api.tokens_file: required: a file of mode 0600 with one line per token, \"NAME "
                    "ROLE SHA256-HEX\" (ROLE viewer or operator; `caretaker api-token NAME ROLE` makes one)"},
      {WithApi("tokens_file = \"tokens\"\n"), "bad.toml:10:15: api.tokens_file: expected an absolute path, got \"tokens\""},
      {WithApi("listen = \"localhost:9187\"\ntokens_file = \"/t\"\n"),
       "bad.toml:10:10: api.listen: expected an IPv4 address before the port (\"127.0.0.1:9187\", \"0.0.0.0:9187\"), "
       "got \"localhost\""},
      {WithApi("listen = \"127.0.0.1:0\"\ntokens_file = \"/t\"\n"),
       "bad.toml:10:10: api.listen: the port of \"127.0.0.1:0\" is not 1-65535"},
      {WithApi("listen = \"9187\"\ntokens_file = \"/t\"\n"),
       "bad.toml:10:10: api.listen: expected IPV4-ADDRESS:PORT (\"127.0.0.1:9187\"), got \"9187\""},
      {WithApi("listen = \"10.1.2.3:9187\"\ntokens_file = \"/t\"\n"),
       "bad.toml:10:10: api.listen: \"10.1.2.3:9187\" is not a loopback address, and the API has no TLS: tokens "
       "would cross the network in the clear; set tls_cert and tls_key, or put a TLS proxy in front and listen on "
       "127.0.0.1, or set allow_insecure_remote = true"},
      {WithApi("tokens_file = \"/t\"\ntls_cert = \"/etc/c.pem\"\n"),
       "bad.toml:11:12: api.tls_key: required with tls_cert: HTTPS needs the certificate chain (tls_cert) and its "
       "private key (tls_key), both PEM files"},
      {WithApi("tokens_file = \"/t\"\ntls_key = \"k.pem\"\n"),
       "bad.toml:11:11: api.tls_key: expected an absolute path, got \"k.pem\""},
      {WithApi("tokens_file = \"/t\"\nhosts = [\"caretaker.ops:80\"]\n"),
       "bad.toml:11:10: api.hosts: expected a host name without port or scheme, got \"caretaker.ops:80\""},
      {WithApi("tokens_file = \"/t\"\ntoken = \"abc\"\n"),
       "bad.toml:11:1: api.token: unknown key (allowed: listen, tokens_file, tls_cert, tls_key, "
       "allow_insecure_remote, metrics_public, hosts)"},
  };
  for (const BadConfig& c : cases) {
    INFO(c.toml);
    CHECK(ErrorOf(c.toml) == c.message);
  }
}

TEST_CASE("api tokens: a line per token, found by its digest with its role", "[api]") {
  TempDir dir;
  const std::string op = NewApiToken(), viewer = NewApiToken(), am = NewApiToken();
  REQUIRE(op.size() == 67);
  REQUIRE(op != viewer);
  const std::string path = WriteTokens(dir, "# who may use the API\n\nci operator " + TokenDigestHex(op) +
                                                "  # the deploy pipeline\ngrafana viewer " + TokenDigestHex(viewer) +
                                                "\nam1 alertmanager " + TokenDigestHex(am) + "\n");
  auto tokens = ReadApiTokens(path);
  INFO((tokens ? std::string() : tokens.error().message));
  REQUIRE(tokens);
  REQUIRE(tokens.value().size() == 3);
  auto found = FindApiToken(tokens.value(), op);
  REQUIRE(found);
  CHECK(found->name == "ci");
  CHECK(found->role == ApiRole::kOperator);
  CHECK(FindApiToken(tokens.value(), viewer)->role == ApiRole::kViewer);
  CHECK(FindApiToken(tokens.value(), am)->role == ApiRole::kAlertmanager);
  CHECK(ApiRoleName(ApiRole::kAlertmanager) == "alertmanager");
  CHECK_FALSE(FindApiToken(tokens.value(), ""));
  CHECK_FALSE(FindApiToken(tokens.value(), op.substr(0, 66)));
  CHECK_FALSE(FindApiToken(tokens.value(), TokenDigestHex(op)));  // the digest is not the token
  // SHA-256 of "abc" (FIPS 180-2).
  CHECK(TokenDigestHex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("api tokens: a file others can read, or a bad line, is refused naming file and line, never a digest",
          "[api]") {
  TempDir dir;
  const std::string digest = TokenDigestHex("t");
  struct Case {
    std::string text;
    mode_t mode;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"ci operator " + digest + "\n", 0644, "group or others"},
      {"ci operator\n", 0600, ":1: expected NAME ROLE SHA256-HEX"},
      {"# x\nci admin " + digest + "\n", 0600, ":2: the role of ci must be viewer, operator or alertmanager"},
      {"ci operator abc\n", 0600, ":1: the digest of ci must be 64 hex digits"},
      {"ci operator " + std::string(64, 'g') + "\n", 0600, ":1: the digest of ci is not hex"},
      {"ci operator " + digest + "\nci viewer " + digest + "\n", 0600, ":2: the name ci is used twice"},
      {"# nobody\n", 0600, "no token in the API tokens file"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto read = ReadApiTokens(WriteTokens(dir, c.text, c.mode));
    REQUIRE_FALSE(read);
    CHECK(read.error().message.find(c.says) != std::string::npos);
    CHECK(read.error().message.find(digest) == std::string::npos);
  }
}

TEST_CASE("metrics text: HELP and TYPE once per family, escapes, cumulative buckets ending at +Inf", "[api]") {
  MetricsText m;
  m.Family("caretaker_x", "gauge", "A help with \\ and\na newline.");
  m.Sample({{"pool", "a\"b\\c\nd"}}, 1);
  m.Sample({}, 0.25);
  HistogramCounts h({1, 10});
  h.Observe(0.5);
  h.Observe(5);
  h.Observe(50);
  m.Family("caretaker_seconds", "histogram", "Durations.");
  m.Histogram({{"pool", "a"}}, h.bounds(), h.counts(), h.sum());
  CHECK(m.text() ==
        "# HELP caretaker_x A help with \\\\ and\\na newline.\n"
        "# TYPE caretaker_x gauge\n"
        "caretaker_x{pool=\"a\\\"b\\\\c\\nd\"} 1\n"
        "caretaker_x 0.25\n"
        "# HELP caretaker_seconds Durations.\n"
        "# TYPE caretaker_seconds histogram\n"
        "caretaker_seconds_bucket{pool=\"a\",le=\"1\"} 1\n"
        "caretaker_seconds_bucket{pool=\"a\",le=\"10\"} 2\n"
        "caretaker_seconds_bucket{pool=\"a\",le=\"+Inf\"} 3\n"
        "caretaker_seconds_sum{pool=\"a\"} 55.5\n"
        "caretaker_seconds_count{pool=\"a\"} 3\n");
}

}  // namespace caretaker
