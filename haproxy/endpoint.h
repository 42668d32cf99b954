// Where a HAProxy runtime API listens: "unix:/path" or "tcp:host:port".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "haproxy/error.h"

namespace caretaker::haproxy {

// sockaddr_un.sun_path holds 108 bytes, the last one a NUL.
inline constexpr size_t kMaxUnixPathBytes = 107;

struct Endpoint {
  enum class Kind { kUnix, kTcp };
  Kind kind = Kind::kUnix;
  std::string path;  // kUnix
  std::string host;  // kTcp: name or address (an IPv6 address without brackets)
  uint16_t port = 0; // kTcp

  // Accepts "unix:/absolute/path", "tcp:host:port" and "tcp:[v6addr]:port";
  // anything else is kBadEndpoint with a message that shows both forms.
  static Result<Endpoint> Parse(std::string_view text);
  std::string ToString() const;  // the form Parse accepts
};

}  // namespace caretaker::haproxy
