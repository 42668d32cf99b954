// See webhook.h.
#include "tests/sandbox/webhook.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace caretaker::sandbox {
namespace {

constexpr int kReadTimeoutMs = 5000;

// Reads one request from `fd` (headers, then Content-Length bytes of body).
bool ReadRequest(int fd, WebhookRequest& out) {
  std::string data;
  char buf[8192];
  size_t head_end = std::string::npos;
  size_t want = 0;
  for (;;) {
    if (head_end != std::string::npos && data.size() >= head_end + 4 + want) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, kReadTimeoutMs) <= 0) return false;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return false;
    data.append(buf, static_cast<size_t>(n));
    if (head_end == std::string::npos && (head_end = data.find("\r\n\r\n")) != std::string::npos) {
      size_t line_end = data.find("\r\n");
      std::string first = data.substr(0, line_end);
      out.method = first.substr(0, first.find(' '));
      out.target = first.substr(first.find(' ') + 1, first.rfind(' ') - first.find(' ') - 1);
      for (size_t at = line_end + 2; at < head_end;) {
        size_t end = data.find("\r\n", at);
        std::string line = data.substr(at, end - at);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
          std::string value = line.substr(colon + 1);
          while (!value.empty() && value.front() == ' ') value.erase(0, 1);
          out.headers[name] = value;
        }
        at = end + 2;
      }
      if (out.headers.count("content-length")) want = std::stoul(out.headers["content-length"]);
    }
  }
  out.body = data.substr(head_end + 4, want);
  return true;
}

}  // namespace

WebhookReceiver::WebhookReceiver() {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 64) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("webhook receiver: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
}

WebhookReceiver::~WebhookReceiver() {
  stop_ = true;
  ::shutdown(fd_, SHUT_RDWR);
  thread_.join();
  ::close(fd_);
  for (int c : hung_) ::close(c);
}

void WebhookReceiver::Serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    WebhookRequest r;
    if (!ReadRequest(c, r)) {
      ::close(c);
      continue;
    }
    if (hang_) {
      std::lock_guard lock(mu_);
      requests_.push_back(std::move(r));
      hung_.push_back(c);
      continue;
    }
    int status = 200;
    if (fail_ > 0) {
      --fail_;
      status = 500;
    }
    r.answered = status;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(r);
    }
    const std::string body = status == 200 ? "ok\n" : "failing on purpose\n";
    const std::string reply = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Internal Server Error") +
                              "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                              "\r\nConnection: close\r\n\r\n" + body;
    (void)::send(c, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(c);
  }
}

std::vector<WebhookRequest> WebhookReceiver::Requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

bool WebhookReceiver::WaitFor(const std::function<bool(const WebhookRequest&)>& match,
                              std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    for (const WebhookRequest& r : Requests()) {
      if (match(r)) return true;
    }
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

}  // namespace caretaker::sandbox
