// A TCP listener on 127.0.0.1 that never accepts, for timeout tests: the
// kernel completes up to `backlog` handshakes and nothing ever answers (a hung
// server); once the backlog is full, further connects hang in SYN (a dead or
// firewalled host).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

namespace caretaker::testing {

class SilentListener {
 public:
  explicit SilentListener(int backlog) : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    addr_.sin_family = AF_INET;
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_) == 0);
    REQUIRE(listen(fd_, backlog) == 0);
    socklen_t len = sizeof addr_;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr_), &len);
  }
  ~SilentListener() {
    for (int c : fillers_) close(c);
    close(fd_);
  }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  uint16_t port() const { return ntohs(addr_.sin_port); }

  // Opens `n` connections that sit in the backlog, filling it.
  void FillBacklog(int n) {
    for (int i = 0; i < n; ++i) {
      int c = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      connect(c, reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_);
      fillers_.push_back(c);
    }
  }

 private:
  int fd_;
  sockaddr_in addr_{};
  std::vector<int> fillers_;
};

}  // namespace caretaker::testing
