// Loopback networking of the sandbox: picking free ports and one-shot
// request/reply exchanges with HAProxy's stats sockets (one command line per
// connection; HAProxy closes after the reply). Failures throw
// std::runtime_error naming the address.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace caretaker::sandbox {

// `count` distinct ports that were free on 127.0.0.1 a moment ago (each bound
// to 127.0.0.1:0 while the others are held, then released).
std::vector<uint16_t> FreeLoopbackPorts(size_t count);

// True if a unix stream socket at `path` accepts a connection now.
bool UnixSocketAccepts(const std::string& path);

// Connects to the unix socket `path`, sends `line` + "\n", and returns all
// bytes until the peer closes. Throws on connect failure or when the whole
// exchange takes longer than `timeout` (e.g. the peer is SIGSTOPped).
std::string QueryUnixSocket(const std::string& path, std::string_view line,
                            std::chrono::milliseconds timeout);

// The same over TCP to 127.0.0.1:port.
std::string QueryLoopbackTcp(uint16_t port, std::string_view line,
                             std::chrono::milliseconds timeout);

// Like QueryLoopbackTcp, but reads for `duration` and returns what came by
// then (or until the peer closed): a stream, such as Server-Sent Events.
std::string StreamLoopbackTcp(uint16_t port, std::string_view line, std::chrono::milliseconds duration);

// `text` percent-encoded for a query string's value (unreserved kept).
std::string UrlEncode(std::string_view text);

// Sends `text` + "\n" to 127.0.0.1:port and closes, reading nothing (a
// line protocol such as carbon's).
void SendLoopbackTcp(uint16_t port, std::string_view text, std::chrono::milliseconds timeout);

// GET `target` from an HTTP server on 127.0.0.1:port (HTTP/1.0, so it
// closes after the reply); returns the body of a 200 reply, throws otherwise
// ("HTTP 503: ..." naming the address) or after `timeout`.
std::string HttpGetLoopback(uint16_t port, const std::string& target, std::chrono::milliseconds timeout);

// One HTTP/1.0 exchange with 127.0.0.1:port, whatever its status: for
// tests of an HTTP server's replies (errors included). `headers` are whole
// lines ("Authorization: Bearer x"); a Host header is added unless given.
struct HttpResult {
  int status = 0;
  std::string head;  // the status line and headers, as sent
  std::string body;
  // A header's value (name matched without case), "" when absent.
  std::string Header(std::string_view name) const;
};
HttpResult HttpLoopback(uint16_t port, const std::string& method, const std::string& target,
                        const std::vector<std::string>& headers, const std::string& body,
                        std::chrono::milliseconds timeout);

// The longest unix socket path the kernel takes (sizeof sun_path - 1).
size_t MaxUnixSocketPath();

}  // namespace caretaker::sandbox
