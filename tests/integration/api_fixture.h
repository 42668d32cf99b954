// What the API's integration tests share: tokens made by `caretaker
// api-token`, a config with [api] on a free port, requests with a token,
// problem+json, `promtool check metrics`, and the event stream read as
// (id, type, data).
#pragma once

#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "tests/integration/serve_fixture.h"
#include "tests/sandbox/net.h"

namespace caretaker::api_testing {

using namespace std::chrono_literals;
namespace json = boost::json;
using sandbox::HttpResult;

struct Token {
  std::string secret;
  std::string line;  // for the tokens file
};

// A token made by `caretaker api-token` (its stdout: the token; its stderr
// ends with the line for the tokens file).
inline Token MakeToken(const std::string& name, const std::string& role) {
  Run made = Caretaker("api-token " + name + " " + role);
  REQUIRE(made.exit_code == 0);
  Token t;
  t.secret = made.out.substr(0, made.out.find('\n'));
  std::string err = made.err;
  while (!err.empty() && err.back() == '\n') err.pop_back();
  t.line = err.substr(err.rfind('\n') + 1);
  REQUIRE(t.line.rfind(name + " " + role + " ", 0) == 0);
  return t;
}

struct ApiServe {
  uint16_t port = 0;
  Token viewer, op, alerts;  // roles viewer, operator, alertmanager
  std::string config;
};

inline ApiServe ApiConfig(const std::string& name, const std::string& extra = "") {
  ApiServe s;
  s.port = sandbox::FreeLoopbackPorts(1).front();
  s.viewer = MakeToken("grafana", "viewer");
  s.op = MakeToken("ci", "operator");
  s.alerts = MakeToken("am", "alertmanager");
  const std::string tokens = WriteFileIn(RollSandbox(), name + ".tokens", "# the API's tokens\n" + s.viewer.line +
                                                                             "\n" + s.op.line + "\n" + s.alerts.line + "\n");
  ::chmod(tokens.c_str(), 0600);
  // A state store of its own: what a test counts in the audit trail, jobs
  // and alerts is its own, whichever API test ran before it.
  const std::string state = RollSandbox().dir() + "/state\"";
  const std::string own = Replaced(ConfigText(RollSandbox()), state, RollSandbox().dir() + "/state-" + name + "\"");
  s.config = WriteFileIn(RollSandbox(), name + ".toml",
                         own + "\n" + kSlowTask + "[api]\nlisten = \"127.0.0.1:" + std::to_string(s.port) +
                             "\"\ntokens_file = \"" + tokens + "\"\n" + extra);
  return s;
}

inline HttpResult Get(const ApiServe& s, const std::string& target, const std::string& token,
                      std::vector<std::string> headers = {}) {
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  return sandbox::HttpLoopback(s.port, "GET", target, headers, "", 10s);
}

inline HttpResult Post(const ApiServe& s, const std::string& target, const std::string& token, const std::string& body,
                        std::vector<std::string> headers = {"Content-Type: application/json"}) {
  if (!token.empty()) headers.push_back("Authorization: Bearer " + token);
  return sandbox::HttpLoopback(s.port, "POST", target, headers, body, 10s);
}

inline json::object Body(const HttpResult& r) {
  INFO(r.head << r.body);
  json::value v = json::parse(r.body);
  REQUIRE(v.is_object());
  return v.as_object();
}

// Waits until serve answers /healthz; false (with what serve said) when it
// does not within 10 s.
inline bool WaitForHealth(const ApiServe& s, const Served& serve) {
  for (int i = 0; i < 100; ++i) {
    try {
      if (Get(s, "/healthz", "").status == 200) return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(100ms);
  }
  std::ifstream err(serve.proc.err_path);
  std::stringstream said;
  said << err.rdbuf();
  UNSCOPED_INFO("serve said: " << said.str());
  return false;
}

// The problem+json shape every error has.
inline void CheckProblem(const HttpResult& r, int status) {
  INFO(r.head << r.body);
  CHECK(r.status == status);
  CHECK(r.Header("Content-Type") == "application/problem+json");
  CHECK_FALSE(r.Header("X-Request-Id").empty());
  json::object p = Body(r);
  CHECK(p["status"].as_int64() == status);
  CHECK_FALSE(p["title"].as_string().empty());
  CHECK_FALSE(p["detail"].as_string().empty());
}

// A shell command's exit code and output (stdout and stderr).
inline std::pair<int, std::string> Shell(const std::string& command) {
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  REQUIRE(p);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// `promtool check metrics` on `text`: its exit code and what it said.
inline std::pair<int, std::string> Promtool(const std::string& text) {
  return Shell("promtool check metrics < " + WriteFileIn(RollSandbox(), "scrape.txt", text));
}

// The events of an SSE stream read for `duration`, as (id, type, data);
// a heartbeat has id 0.
struct Event {
  int64_t id = 0;
  std::string type;
  std::string data;
};
inline std::vector<Event> ReadEvents(const ApiServe& s, const std::string& token, const std::string& last_id,
                                      std::chrono::milliseconds duration, std::string* head = nullptr) {
  std::string request = "GET /api/v1/events HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token + "\r\n";
  if (!last_id.empty()) request += "Last-Event-ID: " + last_id + "\r\n";
  const std::string text = sandbox::StreamLoopbackTcp(s.port, request + "\r", duration);
  const size_t body = text.find("\r\n\r\n");
  REQUIRE(body != std::string::npos);
  if (head) *head = text.substr(0, body);
  std::vector<Event> out;
  std::istringstream lines(text.substr(body + 4));
  Event e;
  bool any = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty()) {
      if (any) out.push_back(e);
      e = Event{};
      any = false;
    } else if (line.rfind("id: ", 0) == 0) {
      e.id = std::stoll(line.substr(4));
      any = true;
    } else if (line.rfind("event: ", 0) == 0) {
      e.type = line.substr(7);
      any = true;
    } else if (line.rfind("data: ", 0) == 0) {
      e.data = line.substr(6);
      any = true;
    }
  }
  return out;
}

inline std::vector<int64_t> Ids(const std::vector<Event>& events) {
  std::vector<int64_t> out;
  for (const Event& e : events) {
    if (e.id) out.push_back(e.id);
  }
  return out;
}

}  // namespace caretaker::api_testing
