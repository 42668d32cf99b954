#include <catch2/catch.hpp>

#include "haproxy/client.h"
#include "haproxy/endpoint.h"

namespace caretaker::haproxy {
namespace {

TEST_CASE("socket addresses parse in both forms and print back the same", "[endpoint]") {
  struct Case {
    const char* text;
    Endpoint::Kind kind;
    const char* path_or_host;
    uint16_t port;
  };
  const Case cases[] = {
      {"unix:/run/haproxy/admin.sock", Endpoint::Kind::kUnix, "/run/haproxy/admin.sock", 0},
      {"tcp:127.0.0.1:9999", Endpoint::Kind::kTcp, "127.0.0.1", 9999},
      {"tcp:lb1.example.com:1", Endpoint::Kind::kTcp, "lb1.example.com", 1},
      {"tcp:[::1]:65535", Endpoint::Kind::kTcp, "::1", 65535},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto e = Endpoint::Parse(c.text);
    REQUIRE(e);
    CHECK(e.value().kind == c.kind);
    CHECK((c.kind == Endpoint::Kind::kUnix ? e.value().path : e.value().host) == c.path_or_host);
    CHECK(e.value().port == c.port);
    CHECK(e.value().ToString() == c.text);
  }
}

TEST_CASE("bad socket addresses are refused with the reason", "[endpoint]") {
  const std::pair<const char*, const char*> cases[] = {
      {"unix:relative.sock", "the path must be absolute"},
      {"unix:", "the path must be absolute"},
      {"/run/haproxy.sock", "unknown scheme"},
      {"tcp:127.0.0.1", "missing host or port"},
      {"tcp::80", "missing host or port"},
      {"tcp:host:0", "the port must be an integer 1-65535"},
      {"tcp:host:65536", "the port must be an integer 1-65535"},
      {"tcp:host:80x", "the port must be an integer 1-65535"},
      {"tcp:::1:80", "write an IPv6 address in brackets"},
      {"tcp:[::1:80", "unbalanced [ ] around the address"},
  };
  for (const auto& [text, why] : cases) {
    INFO(text);
    auto e = Endpoint::Parse(text);
    REQUIRE_FALSE(e);
    CHECK(e.error().code == ErrorCode::kBadEndpoint);
    CHECK_THAT(e.error().message, Catch::Contains(why) && Catch::Contains("unix:/path/to/admin.sock"));
  }
}

TEST_CASE("a unix socket path too long for sockaddr_un is refused, not thrown", "[endpoint]") {
  std::string path = "/" + std::string(kMaxUnixPathBytes - 1, 'a');
  CHECK(Endpoint::Parse("unix:" + path));
  auto e = Endpoint::Parse("unix:" + path + "a");
  REQUIRE_FALSE(e);
  CHECK_THAT(e.error().message, Catch::Contains("longer than the 107 bytes"));
}

TEST_CASE("only HAProxy's name characters reach a command line", "[endpoint]") {
  CHECK(IsValidName("replicas-eu_1.a:b"));
  CHECK_FALSE(IsValidName(""));
  CHECK_FALSE(IsValidName("db1 state ready"));
  CHECK_FALSE(IsValidName("db1;shutdown sessions"));
  CHECK_FALSE(IsValidName("db1\n"));
  CHECK(Weight{25, true}.ToString() == "25%");
  CHECK(Weight{12, false}.ToString() == "12");
}

}  // namespace
}  // namespace caretaker::haproxy
