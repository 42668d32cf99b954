#include "tests/sandbox/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace caretaker::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// Owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::runtime_error Error(const std::string& where, std::string_view what) {
  return std::runtime_error(where + ": " + std::string(what));
}

std::runtime_error ErrnoError(const std::string& where, std::string_view what) {
  return Error(where, std::string(what) + ": " + std::strerror(errno));
}

sockaddr_in Loopback(uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

sockaddr_un UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() > MaxUnixSocketPath()) throw Error(path, "unix socket path too long");
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// Waits for `events` on fd until `deadline`; false on timeout.
bool PollUntil(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return false;
  }
}

// Non-blocking connect, then the request/reply exchange, all within `timeout`.
std::string Exchange(int fd, const sockaddr* addr, socklen_t len, const std::string& where,
                     std::string_view line, std::chrono::milliseconds timeout, bool read_reply = true,
                     bool until_timeout = false) {
  auto deadline = Clock::now() + timeout;
  int rc = ::connect(fd, addr, len);
  // A unix socket with a full backlog (its owner stopped accepting) says EAGAIN.
  while (rc != 0 && errno == EAGAIN) {
    if (Clock::now() >= deadline) throw Error(where, "connect timed out (backlog full)");
    ::usleep(10'000);
    rc = ::connect(fd, addr, len);
  }
  if (rc != 0) {
    if (errno != EINPROGRESS) throw ErrnoError(where, "cannot connect");
    if (!PollUntil(fd, POLLOUT, deadline)) throw Error(where, "connect timed out");
    int err = 0;
    socklen_t err_len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len);
    if (err != 0) throw Error(where, std::string("cannot connect: ") + std::strerror(err));
  }
  std::string request = std::string(line) + "\n";
  for (size_t done = 0; done < request.size();) {
    if (!PollUntil(fd, POLLOUT, deadline)) throw Error(where, "send timed out");
    ssize_t n = ::send(fd, request.data() + done, request.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw ErrnoError(where, "send failed");
    if (n > 0) done += static_cast<size_t>(n);
  }
  if (!read_reply) return "";
  std::string reply;
  char buf[8192];
  for (;;) {
    if (!PollUntil(fd, POLLIN, deadline)) {
      if (until_timeout) return reply;
      throw Error(where, "no complete reply within " + std::to_string(timeout.count()) +
                             " ms (got " + std::to_string(reply.size()) + " bytes)");
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return reply;
    if (n > 0) reply.append(buf, static_cast<size_t>(n));
    if (n < 0 && errno != EAGAIN && errno != EINTR) throw ErrnoError(where, "recv failed");
  }
}

}  // namespace

size_t MaxUnixSocketPath() { return sizeof(sockaddr_un{}.sun_path) - 1; }

std::vector<uint16_t> FreeLoopbackPorts(size_t count) {
  std::vector<int> held;
  std::vector<uint16_t> ports;
  auto release = [&] { for (int fd : held) ::close(fd); };
  for (size_t i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = Loopback(0);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      auto error = ErrnoError("127.0.0.1:0", "cannot pick a free port");
      if (fd >= 0) ::close(fd);
      release();
      throw error;
    }
    held.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  release();
  return ports;
}

bool UnixSocketAccepts(const std::string& path) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr = UnixAddress(path);
  return fd.get() >= 0 &&
         ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
}

std::string QueryUnixSocket(const std::string& path, std::string_view line,
                            std::chrono::milliseconds timeout) {
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) throw ErrnoError(path, "socket");
  sockaddr_un addr = UnixAddress(path);
  return Exchange(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr, path, line, timeout);
}

std::string QueryLoopbackTcp(uint16_t port, std::string_view line,
                             std::chrono::milliseconds timeout) {
  std::string where = "127.0.0.1:" + std::to_string(port);
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) throw ErrnoError(where, "socket");
  sockaddr_in addr = Loopback(port);
  return Exchange(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr, where, line,
                  timeout);
}

std::string StreamLoopbackTcp(uint16_t port, std::string_view line, std::chrono::milliseconds duration) {
  std::string where = "127.0.0.1:" + std::to_string(port);
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) throw ErrnoError(where, "socket");
  sockaddr_in addr = Loopback(port);
  return Exchange(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr, where, line, duration, true, true);
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

void SendLoopbackTcp(uint16_t port, std::string_view text, std::chrono::milliseconds timeout) {
  std::string where = "127.0.0.1:" + std::to_string(port);
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) throw ErrnoError(where, "socket");
  sockaddr_in addr = Loopback(port);
  Exchange(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr, where, text, timeout, /*read_reply=*/false);
}

std::string HttpGetLoopback(uint16_t port, const std::string& target, std::chrono::milliseconds timeout) {
  // One line for QueryLoopbackTcp, which adds the last "\n".
  const std::string reply =
      QueryLoopbackTcp(port, "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r", timeout);
  const size_t head_end = reply.find("\r\n\r\n");
  const std::string where = "127.0.0.1:" + std::to_string(port) + target.substr(0, target.find('?'));
  if (!reply.starts_with("HTTP/") || head_end == std::string::npos) throw Error(where, "not an HTTP reply");
  const std::string status = reply.substr(reply.find(' ') + 1, 3);
  std::string body = reply.substr(head_end + 4);
  if (status != "200") throw Error(where, "HTTP " + status + ": " + body.substr(0, 200));
  return body;
}

std::string HttpResult::Header(std::string_view name) const {
  size_t at = 0;
  while ((at = head.find("\r\n", at)) != std::string::npos) {
    at += 2;
    size_t colon = head.find(':', at);
    size_t end = head.find("\r\n", at);
    if (colon == std::string::npos || (end != std::string::npos && colon > end)) continue;
    std::string_view key = std::string_view(head).substr(at, colon - at);
    if (key.size() == name.size() && std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        })) {
      std::string value = head.substr(colon + 1, (end == std::string::npos ? head.size() : end) - colon - 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      return value;
    }
  }
  return "";
}

HttpResult HttpLoopback(uint16_t port, const std::string& method, const std::string& target,
                        const std::vector<std::string>& headers, const std::string& body,
                        std::chrono::milliseconds timeout) {
  std::string request = method + " " + target + " HTTP/1.0\r\n";
  bool host = false;
  for (const std::string& h : headers) {
    host = host || h.rfind("Host:", 0) == 0 || h.rfind("host:", 0) == 0;
    request += h + "\r\n";
  }
  if (!host) request += "Host: 127.0.0.1:" + std::to_string(port) + "\r\n";
  // QueryLoopbackTcp ends what it sends with "\n": the body's own last
  // byte (JSON may end in white space), or the blank line's.
  if (method == "POST" || !body.empty()) {
    request += "Content-Length: " + std::to_string(body.size() + 1) + "\r\n\r\n" + body;
  } else {
    request += "\r";
  }
  const std::string reply = QueryLoopbackTcp(port, request, timeout);
  const size_t head_end = reply.find("\r\n\r\n");
  const std::string where = "127.0.0.1:" + std::to_string(port) + target.substr(0, target.find('?'));
  if (!reply.starts_with("HTTP/") || head_end == std::string::npos) throw Error(where, "not an HTTP reply");
  HttpResult out;
  out.status = std::stoi(reply.substr(reply.find(' ') + 1, 3));
  out.head = reply.substr(0, head_end + 2);
  out.body = reply.substr(head_end + 4);
  return out;
}

}  // namespace caretaker::sandbox
