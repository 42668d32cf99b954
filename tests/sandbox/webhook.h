// A webhook receiver on loopback for tests of notifications: an HTTP server
// on its own thread that records every request (method, target, headers,
// body) and answers 200 — or, when told, 500 for the next N requests, or
// nothing at all (it keeps the connection open and never replies: a hung
// receiver). Requests are recorded as they arrive, answered or not.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace caretaker::sandbox {

struct WebhookRequest {
  std::string method, target;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  int answered = 0;  // the status sent; 0: none (hung)
};

class WebhookReceiver {
 public:
  WebhookReceiver();  // listening on a free 127.0.0.1 port; throws when it cannot
  ~WebhookReceiver();
  WebhookReceiver(const WebhookReceiver&) = delete;
  WebhookReceiver& operator=(const WebhookReceiver&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void FailNext(int count) { fail_ = count; }  // HTTP 500 for the next `count` requests
  void Hang(bool on) { hang_ = on; }           // read requests, answer none

  std::vector<WebhookRequest> Requests() const;
  // Waits until some recorded request passes `match`; false after `timeout`.
  bool WaitFor(const std::function<bool(const WebhookRequest&)>& match, std::chrono::milliseconds timeout) const;

 private:
  void Serve();
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> fail_{0};
  std::atomic<bool> hang_{false};
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::vector<WebhookRequest> requests_;
  std::vector<int> hung_;  // connections never answered, closed at the end
  std::thread thread_;
};

}  // namespace caretaker::sandbox
