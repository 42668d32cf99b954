// serve's HTTP API over TLS on the real sandbox: a certificate made by
// openssl, curl as the client; plain HTTP gets nothing; a key others may
// read keeps serve from starting.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "tests/integration/api_fixture.h"

namespace caretaker {

using namespace api_testing;

TEST_CASE("the API over TLS: HTTPS with the configured certificate, plain HTTP gets nothing, a key others may "
          "read is refused at start",
          "[serve][api]") {
  const std::string dir = RollSandbox().dir();
  const std::string cert = dir + "/api-tls.crt", key = dir + "/api-tls.key";
  auto [made, said] = Shell("openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -addext "
                            "subjectAltName=IP:127.0.0.1 -days 2 -keyout " + key + " -out " + cert);
  INFO(said);
  REQUIRE(made == 0);
  ApiServe s = ApiConfig("api-tls", "tls_cert = \"" + cert + "\"\ntls_key = \"" + key + "\"\n");

  // The key readable by others: serve says so and does not start.
  ::chmod(key.c_str(), 0644);
  {
    Served refused = Serve(s.config);
    bool exited = false;
    for (int i = 0; i < 100 && !exited; ++i) {
      exited = ::kill(refused.proc.pid, 0) != 0 || ::waitpid(refused.proc.pid, nullptr, WNOHANG) == refused.proc.pid;
      if (!exited) std::this_thread::sleep_for(100ms);
    }
    std::ifstream err(refused.proc.err_path);
    std::stringstream text;
    text << err.rdbuf();
    INFO(text.str());
    if (!exited) refused.Stop();
    CHECK(exited);
    CHECK(text.str().find("tls_key") != std::string::npos);
  }
  ::chmod(key.c_str(), 0600);

  Served serve = Serve(s.config);
  const std::string url = "https://127.0.0.1:" + std::to_string(s.port);
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    up = Shell("curl -sf --cacert " + cert + " " + url + "/healthz").first == 0;
    if (!up) std::this_thread::sleep_for(100ms);
  }
  REQUIRE(up);
  auto [code, body] = Shell("curl -s --cacert " + cert + " -H 'Authorization: Bearer " + s.viewer.secret + "' " + url +
                            "/api/v1/status");
  INFO(body);
  CHECK(code == 0);
  CHECK(body.find("\"halt\":") != std::string::npos);
  // Without the certificate trusted, curl refuses it (it is the one we made).
  CHECK(Shell("curl -sf " + url + "/healthz").first != 0);
  // Plain HTTP to the TLS port: no HTTP reply.
  auto plain = Shell("curl -s -m 5 -o /dev/null -w '%{http_code}' http://127.0.0.1:" + std::to_string(s.port) + "/healthz");
  CHECK(plain.second.find("200") == std::string::npos);
  // A change over TLS, audited as any.
  auto [posted, reply] = Shell("curl -s --cacert " + cert + " -X POST -H 'Content-Type: application/json' -H "
                               "'Authorization: Bearer " + s.op.secret + "' -d '{\"reason\":\"tls check\"}' " + url +
                               "/api/v1/resume");
  INFO(reply);
  CHECK(posted == 0);
  CHECK(reply.find("not halted") != std::string::npos);
  serve.Stop();
}

}  // namespace caretaker
