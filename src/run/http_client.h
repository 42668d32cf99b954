// One HTTP/1.1 request on a new connection, within one deadline for all of it
// (connect, send, read): what the monitoring sources (Prometheus, Graphite)
// and the webhooks use. Beast stays in http_client.cc. A host name is
// resolved inside the deadline too, but Asio's resolver cannot be
// interrupted: a hung DNS server delays the timeout error (prefer addresses,
// or a local resolver).
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "src/base/async.h"
#include "src/base/result.h"
#include "src/base/time.h"

namespace caretaker {

struct HttpRequest {
  std::string method = "GET";
  std::string host;  // a name or an address
  uint16_t port = 80;
  std::string target;  // "/api/v1/query?query=up"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpReply {
  int status = 0;
  std::string content_type;
  std::string body;
};

// The reply, whatever its status; an error only when none came: "cannot
// connect to HOST:PORT: Connection refused", "no reply from HOST:PORT within
// 5s", "HOST:PORT: a reply body over 64 MiB". `io`: where it runs.
Awaitable<Result<HttpReply>> HttpCall(boost::asio::io_context& io, const HttpRequest& request, Millis timeout);

// `text` percent-encoded for a query string's value (RFC 3986 unreserved kept).
std::string UrlEncode(std::string_view text);
// Standard base64 (for "Authorization: Basic").
std::string Base64(std::string_view bytes);

}  // namespace caretaker
