// serve's HTTP/1.1 server (Boost.Beast): keep-alive connections on the
// event loop, each request read under a deadline and a size limit, answered
// by one handler on the loop — or, for Server-Sent Events, a stream fed by
// polling an EventFeed until the client goes away. Every reply carries the
// request's X-Request-Id. Beast stays out of this header.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "src/base/result.h"

namespace caretaker {

struct HttpExchange {
  std::string method;                          // "GET"
  std::string target;                          // as sent: "/api/v1/jobs?state=failed"
  std::string path;                            // before '?', percent-decoded
  std::map<std::string, std::string> query;    // decoded; a repeated name: the last
  std::map<std::string, std::string> headers;  // names lowercased
  std::string body;
  std::string remote;      // the client's address
  std::string request_id;  // the client's X-Request-Id when sane, else a new one

  // The header's value, "" when absent.
  const std::string& Header(const std::string& lowercase_name) const;
};

// A stream of Server-Sent Events. Poll is called on the loop every
// quarter second while the client is connected.
class EventFeed {
 public:
  virtual ~EventFeed() = default;
  // The complete events to send now ("" nothing); false ends the stream.
  virtual bool Poll(std::string& out) = 0;
};

struct HttpAnswer {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Of an error: its one sentence (the problem's detail), for the log and
  // the audit trail; not sent by itself.
  std::string detail;
  // Set: the reply is `text/event-stream`; `body` is sent first, then what
  // the feed gives, until it ends or the client closes.
  std::shared_ptr<EventFeed> events;
};

using HttpHandler = std::function<HttpAnswer(const HttpExchange&)>;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, HttpHandler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // HTTPS from now on (connections accepted later): the certificate chain
  // (PEM file) and its private key (PEM text). TLS 1.2 or later. Or why
  // not, naming the file; the server is unchanged then (a reload that
  // fails keeps the old certificate).
  Result<void> UseTls(const std::string& cert_file, const std::string& key_pem, const std::string& key_file);
  // Bound and listening on host:port (port 0: any free one), or why not.
  Result<void> Listen(const std::string& host, uint16_t port);
  uint16_t port() const;
  // Closes the listener and every connection (streams included).
  void Stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// "%2F" and "+" decoded (query values); a malformed escape kept as it is.
std::string PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace caretaker
