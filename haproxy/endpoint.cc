#include "haproxy/endpoint.h"

#include <charconv>

namespace caretaker::haproxy {
namespace {

Error BadEndpoint(std::string_view text, const std::string& why) {
  return Error{ErrorCode::kBadEndpoint,
               "bad HAProxy socket \"" + std::string(text) + "\": " + why +
                   " (expected unix:/path/to/admin.sock or tcp:host:port)"};
}

}  // namespace

Result<Endpoint> Endpoint::Parse(std::string_view text) {
  Endpoint e;
  if (text.starts_with("unix:")) {
    e.kind = Kind::kUnix;
    e.path = std::string(text.substr(5));
    if (e.path.empty() || e.path.front() != '/') return BadEndpoint(text, "the path must be absolute");
    if (e.path.size() > kMaxUnixPathBytes) {
      return BadEndpoint(text, "the path is longer than the " + std::to_string(kMaxUnixPathBytes) +
                                   " bytes a unix socket address can hold");
    }
    return e;
  }
  if (!text.starts_with("tcp:")) return BadEndpoint(text, "unknown scheme");
  std::string_view rest = text.substr(4);
  size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return BadEndpoint(text, "missing host or port");
  std::string_view host = rest.substr(0, colon);
  std::string_view port = rest.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return BadEndpoint(text, "unbalanced [ ] around the address");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return BadEndpoint(text, "write an IPv6 address in brackets");
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || ptr != port.data() + port.size() || value == 0 || value > 65535) {
    return BadEndpoint(text, "the port must be an integer 1-65535");
  }
  e.kind = Kind::kTcp;
  e.host = std::string(host);
  e.port = static_cast<uint16_t>(value);
  return e;
}

std::string Endpoint::ToString() const {
  if (kind == Kind::kUnix) return "unix:" + path;
  bool v6 = host.find(':') != std::string::npos;
  return "tcp:" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace caretaker::haproxy
