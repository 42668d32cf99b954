// See monitor_sources.h.
#include "src/run/monitor_sources.h"

#include <chrono>
#include <map>
#include <string>

#include "src/run/http_client.h"
#include "src/walk/alert_reply.h"
#include "src/walk/monitor_reply.h"

namespace caretaker {
namespace {

namespace asio = boost::asio;

// Prometheus' own timeout a tenth shorter than ours, so that its "timeout"
// error (HTTP 503) arrives before we give up on the reply.
std::string Timeout(Millis d) { return std::to_string(std::max<int64_t>(1, d.count() * 9 / 10)) + "ms"; }

std::string Describe(const MonitorServerConfig& server, const char* kind) {
  return std::string(kind) + " " + server.name + " (" + server.url + ")";
}

// The request to `server` for `target`, with its credentials read now (a
// rotated token is picked up at the next query).
Result<HttpRequest> Request(const MonitorServerConfig& server, const std::string& kind, std::string target) {
  HttpRequest r;
  r.host = server.host;
  r.port = server.port;
  r.target = server.path_prefix + std::move(target);
  r.headers.emplace_back("Accept", "application/json");
  if (!server.bearer_token_file.empty()) {
    auto token = ReadSecretFile(server.bearer_token_file, "bearer_token_file of [[" + kind + "]] " + server.name);
    if (!token) return token.error();
    r.headers.emplace_back("Authorization", "Bearer " + token.value());
  } else if (!server.basic_user.empty()) {
    auto password = ReadSecretFile(server.basic_password_file, "basic_password_file of [[" + kind + "]] " + server.name);
    if (!password) return password.error();
    r.headers.emplace_back("Authorization", "Basic " + Base64(server.basic_user + ":" + password.value()));
  }
  return r;
}

// Members caretaker or a person has out are not read (never touched).
bool Skipped(const WatchedMember& m) { return m.out == OutBy::kPerson || m.out == OutBy::kCaretaker; }

std::vector<MonitoredMember> Monitored(const std::vector<WatchedMember>& members) {
  std::vector<MonitoredMember> out;
  out.reserve(members.size());
  for (const WatchedMember& m : members) out.push_back({m.pool, m.member, !Skipped(m)});
  return out;
}

// The verdicts of a reply, with who has each member out.
std::vector<RuleMember> WithOut(std::vector<RuleMember> read, const std::vector<WatchedMember>& members) {
  for (size_t i = 0; i < members.size(); ++i) read[i].out = members[i].out;
  return read;
}

// The server could not be asked: every member read is unknown, saying why.
std::vector<RuleMember> AllUnknown(const std::vector<WatchedMember>& members, const std::string& why) {
  std::vector<RuleMember> out(members.size());
  for (size_t i = 0; i < members.size(); ++i) {
    out[i].pool = members[i].pool->name;
    out[i].server = members[i].member->server;
    out[i].out = members[i].out;
    if (Skipped(members[i])) continue;
    out[i].when = {Verdict::Is::kUnknown, why};
    out[i].clear = {Verdict::Is::kUnknown, why};
  }
  return out;
}

class PrometheusSource : public ConditionSource {
 public:
  PrometheusSource(const MonitorServerConfig& server, asio::io_context& io) : server_(server), io_(io) {}

  Awaitable<std::vector<RuleMember>> Read(const RuleConfig& rule, const std::vector<WatchedMember>& members) override {
    problem_.clear();
    auto asked = Ask(rule);
    Result<PromResult> got = co_await std::move(asked);
    if (!got) {
      problem_ = Describe(server_, "prometheus") + ": query '" + rule.query + "': " + got.error().message;
      co_return AllUnknown(members, problem_);
    }
    co_return WithOut(PrometheusVerdicts(rule, got.value(), Monitored(members)), members);
  }

  std::string Problem() const override { return problem_; }

 private:
  Awaitable<Result<PromResult>> Ask(const RuleConfig& rule) {
    Result<HttpRequest> request = Request(server_, "prometheus", "/api/v1/query?query=" + UrlEncode(rule.query) +
                                                                   "&timeout=" + Timeout(server_.timeout));
    if (!request) co_return request.error();
    auto call = HttpCall(io_, request.value(), server_.timeout);
    Result<HttpReply> reply = co_await std::move(call);
    if (!reply) co_return reply.error();
    co_return ParsePrometheusReply(reply.value().status, reply.value().body);
  }

  const MonitorServerConfig server_;
  asio::io_context& io_;
  std::string problem_;
};

// `text` with every placeholder read as Graphite's "*".
std::string Wildcarded(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (std::string_view p : {"{server}", "{host}", "{port}", "{pool}"}) {
      if (std::string_view(text).substr(i, p.size()) == p) {
        out += '*';
        i += p.size();
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

class GraphiteSource : public ConditionSource {
 public:
  GraphiteSource(const MonitorServerConfig& server, asio::io_context& io) : server_(server), io_(io) {}

  Awaitable<std::vector<RuleMember>> Read(const RuleConfig& rule, const std::vector<WatchedMember>& members) override {
    problem_.clear();
    const std::string target = Wildcarded(rule.query);
    auto asked = Ask(rule, target);
    Result<std::vector<GraphiteSeries>> got = co_await std::move(asked);
    if (!got) {
      problem_ = Describe(server_, "graphite") + ": target '" + target + "': " + got.error().message;
      co_return AllUnknown(members, problem_);
    }
    const int64_t now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    co_return WithOut(GraphiteVerdicts(rule, got.value(), Monitored(members), now), members);
  }

  std::string Problem() const override { return problem_; }

 private:
  Awaitable<Result<std::vector<GraphiteSeries>>> Ask(const RuleConfig& rule, const std::string& target) {
    // From max_age ago: the newest point within it is what counts.
    const int64_t seconds = std::max<int64_t>(1, rule.max_age.count() / 1000);
    Result<HttpRequest> request =
        Request(server_, "graphite", "/render?target=" + UrlEncode(target) + "&from=-" + std::to_string(seconds) +
                                         "s&format=json");
    if (!request) co_return request.error();
    auto call = HttpCall(io_, request.value(), server_.timeout);
    Result<HttpReply> reply = co_await std::move(call);
    if (!reply) co_return reply.error();
    co_return ParseGraphiteReply(reply.value().status, reply.value().body);
  }

  const MonitorServerConfig server_;
  asio::io_context& io_;
  std::string problem_;
};

class AlertmanagerSource : public ConditionSource {
 public:
  explicit AlertmanagerSource(const AlertBook* alerts) : alerts_(alerts) {}

  Awaitable<std::vector<RuleMember>> Read(const RuleConfig& rule, const std::vector<WatchedMember>& members) override {
    problem_.clear();
    if (!alerts_) {
      problem_ = "rule " + rule.name + ": this process keeps no alerts from Alertmanager (serve's intake, "
                 "POST /api/v1/alerts/alertmanager, does)";
      co_return AllUnknown(members, problem_);
    }
    auto kept = alerts_->ListAlerts();
    if (!kept) {
      problem_ = "the alerts Alertmanager sent cannot be read from the state store: " + kept.error().message;
      co_return AllUnknown(members, problem_);
    }
    co_return WithOut(AlertmanagerVerdicts(rule, kept.value(), Monitored(members), WallNow()), members);
  }

  std::string Problem() const override { return problem_; }

 private:
  const AlertBook* alerts_;
  std::string problem_;
};

}  // namespace

std::unique_ptr<ConditionSource> MakePrometheusSource(const MonitorServerConfig& server, asio::io_context& io) {
  return std::make_unique<PrometheusSource>(server, io);
}

std::unique_ptr<ConditionSource> MakeGraphiteSource(const MonitorServerConfig& server, asio::io_context& io) {
  return std::make_unique<GraphiteSource>(server, io);
}

std::unique_ptr<ConditionSource> MakeAlertmanagerSource(const AlertBook* alerts) {
  return std::make_unique<AlertmanagerSource>(alerts);
}

}  // namespace caretaker
