// See notifier.h.
#include "src/run/notifier.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <deque>

#include "src/base/log.h"
#include "src/run/http_client.h"
#include "src/store/maint_record.h"

namespace caretaker {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

constexpr Millis kFirstRetry{1000};
constexpr Millis kMaxRetry{60000};

bool Wants(const NotifyConfig& c, const NotifyEvent& e) {
  if (!c.events.empty()) {
    bool kind = std::any_of(c.events.begin(), c.events.end(), [&](const std::string& k) {
      return k == e.kind || (k.ends_with(".*") && e.kind.starts_with(k.substr(0, k.size() - 1)));
    });
    if (!kind) return false;
  }
  if (!c.pools.empty() && !e.pool.empty()) {
    return std::find(c.pools.begin(), c.pools.end(), e.pool) != c.pools.end();
  }
  return true;
}

}  // namespace

struct Notifier::Target {
  struct Queued {
    std::string id, kind, body;
  };
  NotifyConfig config;
  std::deque<Queued> queue;
  std::unique_ptr<Timer> wake;
  bool busy = false;     // a delivery is under way
  bool retired = false;  // a reload replaced it: its deliverer ends once its queue is empty
};

Notifier::Notifier(asio::io_context& io, const std::vector<NotifyConfig>& targets)
    : io_(io), counts_(std::make_shared<NotifyCounts>()) {
  epoch_ = NowSeconds().time_since_epoch().count();
  Configure(targets);
}

void Notifier::Configure(const std::vector<NotifyConfig>& targets) {
  // The webhooks of before deliver what they hold, then end.
  for (std::shared_ptr<Target>& old : targets_) {
    old->retired = true;
    old->wake->Cancel();
    retiring_.push_back(std::move(old));
  }
  targets_.clear();
  std::erase_if(retiring_, [](const std::shared_ptr<Target>& t) { return t->queue.empty() && !t->busy; });
  for (const NotifyConfig& c : targets) {
    auto t = std::make_shared<Target>();
    t->config = c;
    t->wake = SteadyClock().MakeTimer(io_);
    targets_.push_back(t);
    // The deliverer holds the target and the counts: it may outlive the
    // notifier by one wake-up while the loop winds down.
    auto deliver = [](std::shared_ptr<Target> t, std::shared_ptr<NotifyCounts> counts,
                      asio::io_context& io) -> Awaitable<void> {
      for (;;) {
        while (t->queue.empty()) {
          if (t->retired) co_return;
          auto wait = t->wake->WaitUntil(SteadyTime::max());
          co_await std::move(wait);
        }
        t->busy = true;
        const Target::Queued q = t->queue.front();
        t->queue.pop_front();
        bool delivered = false;
        std::string why;
        for (int attempt = 0; attempt <= t->config.retries && !delivered; ++attempt) {
          if (attempt > 0) {
            ++counts->retried;
            Millis delay = std::min(kMaxRetry, kFirstRetry * (1 << std::min(attempt - 1, 16)));
            std::unique_ptr<Timer> pause = SteadyClock().MakeTimer(io);
            auto wait = pause->WaitUntil(SteadyClock().Now() + delay);
            co_await std::move(wait);
          }
          HttpRequest request;
          request.method = "POST";
          request.host = t->config.host;
          request.port = t->config.port;
          request.target = t->config.path;
          request.body = q.body;
          request.headers.emplace_back("Content-Type", "application/json");
          request.headers.emplace_back("X-Caretaker-Event", q.kind);
          request.headers.emplace_back("X-Caretaker-Event-Id", q.id);
          if (!t->config.secret_file.empty()) {
            auto secret = ReadSecretFile(t->config.secret_file, "secret_file of [[notify]] " + t->config.name);
            if (!secret) {
              why = secret.error().message;
              continue;
            }
            request.headers.emplace_back(t->config.secret_header, secret.value());
          }
          auto call = HttpCall(io, request, t->config.timeout);
          Result<HttpReply> reply = co_await std::move(call);
          if (!reply) {
            why = reply.error().message;
          } else if (reply.value().status < 200 || reply.value().status > 299) {
            why = "HTTP " + std::to_string(reply.value().status);
          } else {
            delivered = true;
          }
        }
        t->busy = false;
        if (delivered) {
          ++counts->delivered;
          LogEvent(LogLevel::kDebug, "notify.delivered", {{"notify", t->config.name}, {"kind", q.kind}, {"id", q.id}});
        } else {
          ++counts->failed;
          LogEvent(LogLevel::kError, "notify.failed",
                   // host:port, not the url: a receiver's path may hold a token.
                   {{"notify", t->config.name}, {"to", t->config.host + ":" + std::to_string(t->config.port)},
                    {"kind", q.kind}, {"id", q.id},
                    {"attempts", static_cast<int64_t>(t->config.retries + 1)}, {"error", why}});
        }
      }
    };
    asio::co_spawn(io_, deliver(t, counts_, io_), asio::detached);
  }
}

Notifier::~Notifier() = default;

NotifyEvent NotifyEvent::Of(std::string kind, const MaintRecord& r) {
  NotifyEvent e;
  e.kind = std::move(kind);
  e.pool = r.pool;
  e.server = r.server;
  e.who = r.who;
  e.reason = r.reason;
  e.job = r.job;
  return e;
}

std::string Notifier::Body(const NotifyEvent& e, const std::string& id, SysSeconds at) {
  json::object o;
  o["kind"] = e.kind;
  o["at"] = FormatUtc(at);
  o["id"] = id;
  o["pool"] = e.pool;
  o["server"] = e.server;
  if (e.job != 0) o["job"] = e.job;
  else o["job"] = nullptr;
  o["rule"] = e.rule;
  o["who"] = e.who;
  o["reason"] = e.reason;
  o["text"] = e.text;
  return json::serialize(o);
}

void Notifier::Emit(NotifyEvent event) {
  const std::string id = std::to_string(epoch_) + "-" + std::to_string(++next_id_);
  std::string body;
  for (const std::shared_ptr<Target>& t : targets_) {
    if (!Wants(t->config, event)) continue;
    if (body.empty()) body = Body(event, id, NowSeconds());
    if (t->queue.size() >= static_cast<size_t>(t->config.queue)) {
      ++counts_->dropped;
      LogEvent(LogLevel::kError, "notify.dropped",
               {{"notify", t->config.name}, {"kind", t->queue.front().kind}, {"id", t->queue.front().id},
                {"why", "its queue is full (" + std::to_string(t->config.queue) + " events): the oldest goes"}});
      t->queue.pop_front();
    }
    t->queue.push_back({id, event.kind, body});
    ++counts_->queued;
    t->wake->Cancel();
  }
}

Awaitable<void> Notifier::Flush(Millis grace) {
  const SteadyTime until = SteadyClock().Now() + grace;
  std::unique_ptr<Timer> tick = SteadyClock().MakeTimer(io_);
  std::vector<std::shared_ptr<Target>> all = targets_;
  all.insert(all.end(), retiring_.begin(), retiring_.end());
  for (;;) {
    bool idle =
        std::all_of(all.begin(), all.end(), [](const std::shared_ptr<Target>& t) { return t->queue.empty() && !t->busy; });
    if (idle) co_return;
    if (SteadyClock().Now() >= until) break;
    auto wait = tick->WaitUntil(std::min(until, SteadyClock().Now() + Millis(50)));
    co_await std::move(wait);
  }
  for (const std::shared_ptr<Target>& t : all) {
    if (t->queue.empty()) continue;
    counts_->dropped += t->queue.size();
    LogEvent(LogLevel::kError, "notify.dropped",
             {{"notify", t->config.name}, {"events", static_cast<int64_t>(t->queue.size())},
              {"why", "serve stops and the webhook did not take them within " + FormatDuration(grace)}});
    t->queue.clear();
  }
}

NotifyCounts Notifier::counts() const { return *counts_; }

}  // namespace caretaker
