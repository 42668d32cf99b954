// The apply-to-all operations of backend_view.h: a change sent to every
// instance concurrently and confirmed on each by re-reading it, riding out an
// instance that stops answering for a while (ApplyOptions).
#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>

#include "haproxy/backend_view.h"
#include "haproxy/concurrently.h"

namespace caretaker::haproxy {

bool ApplyReport::ok() const {
  return std::none_of(outcomes.begin(), outcomes.end(), [](const InstanceOutcome& o) { return o.error.has_value(); });
}

std::string ApplyReport::FailureSummary() const {
  std::string out;
  for (const InstanceOutcome& o : outcomes) {
    if (!o.error) continue;
    if (!out.empty()) out += "\n";
    out += o.error->message;
  }
  return out;
}

namespace {

namespace asio = boost::asio;
using detail::ForEachConcurrently;
using std::chrono::milliseconds;

// The server's row in a `show servers state` reply, or nullptr.
const ServerState* FindServer(const std::vector<ServerState>& states, const std::string& server) {
  auto it = std::find_if(states.begin(), states.end(), [&](const ServerState& s) { return s.server == server; });
  return it == states.end() ? nullptr : &*it;
}

Error Vanished(const Client& c, const std::string& b, const std::string& s, const std::string& op) {
  return Error{ErrorCode::kNotConfirmed,
               "haproxy " + c.where() + ": server " + b + "/" + s + " vanished while confirming '" + op + "'"};
}

// One change on one server, as every instance gets it: how to send it, how to
// tell from `show servers state` that an instance holds it, how to name it.
struct Change {
  std::string backend;
  std::string server;
  std::string operation;  // the command line: "set server replicas/db1 state drain"
  std::string applied;    // for "it had applied ...": "the drain", "weight 50%"
  std::function<Task<Status>(const Client&)> send;
  std::function<std::optional<std::string>(const ServerState&)> check;  // why not held, or nothing
};

// Re-reads `show servers state` once and returns why the server is not as
// the change asks. HAProxy applies `set server` before it answers, so one
// read suffices; an agent-check that undoes the change later is caught by the
// callers that keep watching a host while it is out.
Task<std::optional<Error>> Confirm(const Client& c, const Change& change) {
  auto reading = c.ShowServersState(change.backend);
  auto states = co_await std::move(reading);
  if (!states) co_return states.error();
  const ServerState* st = FindServer(states.value(), change.server);
  if (!st) co_return Vanished(c, change.backend, change.server, change.operation);
  std::optional<std::string> mismatch = change.check(*st);
  if (!mismatch) co_return std::nullopt;
  co_return Error{ErrorCode::kNotConfirmed, "haproxy " + c.where() + ": '" + change.operation +
                                                "' was accepted but not confirmed: " + *mismatch};
}

Task<std::optional<Error>> SendAndConfirm(const Client& c, const Change& change) {
  auto sending = change.send(c);
  Status sent = co_await std::move(sending);
  if (!sent) co_return sent.error();
  auto confirming = Confirm(c, change);
  co_return co_await std::move(confirming);
}

// The instance did not answer (it may be stopped, hung or reloading), as
// opposed to answering with an error.
bool Unanswered(const Error& e) {
  return e.code == ErrorCode::kTimeout || e.code == ErrorCode::kConnect || e.code == ErrorCode::kIo;
}

// "3.1s", "30s".
std::string Seconds(milliseconds d) {
  char buf[32];
  if (d.count() % 1000 == 0) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(d.count() / 1000));
  else std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1000.0);
  return buf;
}

// One instance's outcome and what it said of its silence.
struct Settled {
  InstanceOutcome outcome;
  std::vector<ApplyNote> notes;
};

void Note(Settled& out, const ApplyOptions& options, const Change& change, ApplyNote::Kind kind,
          milliseconds silent, std::string message) {
  ApplyNote note{kind, out.outcome.instance, change.operation, silent, std::move(message)};
  if (options.on_note) options.on_note(note);
  out.notes.push_back(std::move(note));
}

// `out.outcome.error` is a non-answer to `change`: re-reads the instance
// until it answers or the deadline passes (ApplyOptions), then settles `out`.
Task<void> RideOut(const Client& c, const Change& change, const ApplyOptions& options, Settled& out) {
  std::optional<Error>& error = out.outcome.error;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point since = Clock::now();
  auto silent = [&since] { return std::chrono::duration_cast<milliseconds>(Clock::now() - since); };
  Note(out, options, change, ApplyNote::Kind::kStalled, milliseconds(0),
       c.name() + " does not answer '" + change.operation + "'; re-reading it for up to " +
           Seconds(options.unresponsive_deadline));
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (silent() < options.unresponsive_deadline) {
    timer.expires_after(options.reread_interval);
    auto pause = timer.async_wait(asio::use_awaitable);
    co_await std::move(pause);
    auto reading = c.ShowServersState(change.backend);
    auto states = co_await std::move(reading);
    if (!states && Unanswered(states.error())) {
      error = states.error();
      continue;
    }
    // It answers: from here on its reply decides.
    const std::string back = c.name() + " answers again after " + Seconds(silent()) + "; ";
    if (!states) {
      error = states.error();
      Note(out, options, change, ApplyNote::Kind::kAnswered, silent(), back + "but with an error");
      co_return;
    }
    const ServerState* st = FindServer(states.value(), change.server);
    if (!st) {
      error = Vanished(c, change.backend, change.server, change.operation);
      Note(out, options, change, ApplyNote::Kind::kAnswered, silent(), back + "the server is gone");
      co_return;
    }
    if (!change.check(*st)) {
      error.reset();
      Note(out, options, change, ApplyNote::Kind::kAnswered, silent(), back + "it had applied " + change.applied);
      co_return;
    }
    Note(out, options, change, ApplyNote::Kind::kAnswered, silent(),
         back + "it had not applied " + change.applied + ": sending it again");
    auto again = SendAndConfirm(c, change);
    error = co_await std::move(again);
    if (!error || !Unanswered(*error)) co_return;
    // Silent again: keep re-reading, within the same deadline.
  }
  Note(out, options, change, ApplyNote::Kind::kGaveUp, silent(),
       c.name() + " did not answer '" + change.operation + "' for " + Seconds(silent()) +
           "; giving up (it may still apply it when it wakes)");
  error->message += " (re-read for " + Seconds(silent()) +
                        " without an answer: it may still apply the command when it wakes; re-read it before "
                        "undoing anything)";
}

// Sends and confirms `change` on one instance, riding out a stall.
Task<Settled> ApplyOn(const Client& c, const Change& change, const ApplyOptions& options) {
  Settled out;
  out.outcome.instance = c.name();
  auto first = SendAndConfirm(c, change);
  std::optional<Error> error = co_await std::move(first);
  out.outcome.error = std::move(error);
  const std::optional<Error>& got = out.outcome.error;
  if (!got || !Unanswered(*got) || options.unresponsive_deadline <= milliseconds(0)) co_return out;
  auto ride = RideOut(c, change, options, out);
  co_await std::move(ride);
  co_return out;
}

Task<ApplyReport> ApplyChange(const std::vector<const Client*>& clients, const Change& change,
                              const ApplyOptions& options) {
  auto one = [&change, &options](const Client& c) { return ApplyOn(c, change, options); };
  auto all = ForEachConcurrently(clients, one);
  std::vector<Settled> settled = co_await std::move(all);
  ApplyReport report;
  report.operation = change.operation;
  for (Settled& s : settled) {
    report.outcomes.push_back(std::move(s.outcome));
    for (ApplyNote& n : s.notes) report.notes.push_back(std::move(n));
  }
  co_return report;
}

std::string Hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

// Why `s` is not in the admin state `want`, or nothing. Inherited or
// configured maint/drain bits count: a server still MAINT through the server
// it tracks is not "ready", whatever the forced bits say.
std::optional<std::string> CheckAdmin(const ServerState& s, AdminState want) {
  bool forced_maint = (s.admin_state & kAdminForcedMaint) != 0;
  bool forced_drain = (s.admin_state & kAdminForcedDrain) != 0;
  bool ok = want == AdminState::kMaint   ? forced_maint
            : want == AdminState::kDrain ? forced_drain && !s.in_maint()
                                         : !s.in_maint() && !s.in_drain();
  if (ok) return std::nullopt;
  std::string why = "srv_admin_state is " + Hex(s.admin_state);
  if (s.admin_state & (kAdminInheritedMaint | kAdminInheritedDrain)) why += " (inherited from the tracked server)";
  else if (s.admin_state & kAdminConfigMaint) why += " (`disabled` in haproxy.cfg)";
  else if (s.admin_state & kAdminResolvMaint) why += " (its address does not resolve)";
  else why += " (is an agent-check or another tool changing it?)";
  return why;
}

// Polls `show stat` until the server has no session, for up to `limit`:
// sessions end asynchronously inside HAProxy after `shutdown sessions`.
Task<std::optional<Error>> WaitNoSessions(const Client& c, const std::string& b, const std::string& s,
                                          const std::string& op, std::chrono::milliseconds limit) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  const auto step = std::chrono::milliseconds(50);
  auto read_states = c.ShowServersState(b);
  auto states = co_await std::move(read_states);
  if (!states) co_return states.error();
  if (states.value().empty()) {
    co_return Error{ErrorCode::kNotConfirmed, "haproxy " + c.where() + ": server " + b + "/" + s +
                                                  " vanished while confirming '" + op + "'"};
  }
  const int backend_id = states.value().front().backend_id;
  int64_t scur = -1;
  for (auto waited = std::chrono::milliseconds(0);; waited += step) {
    auto read_stats = c.ShowBackendStat(backend_id, b);
    auto stats = co_await std::move(read_stats);
    if (!stats) co_return stats.error();
    auto it = std::find_if(stats.value().begin(), stats.value().end(),
                           [&](const ServerStat& st) { return st.backend == b && st.server == s; });
    if (it == stats.value().end()) {
      co_return Error{ErrorCode::kNotConfirmed, "haproxy " + c.where() + ": server " + b + "/" + s +
                                                    " vanished while confirming '" + op + "'"};
    }
    scur = it->scur;
    if (scur == 0) co_return std::nullopt;
    if (waited >= limit) break;
    timer.expires_after(step);
    auto wait = timer.async_wait(asio::use_awaitable);
    co_await std::move(wait);
  }
  co_return Error{ErrorCode::kNotConfirmed, "haproxy " + c.where() + ": '" + op + "' was accepted but " +
                                                std::to_string(scur) + " sessions remain (new ones arrive while " +
                                                "the server is READY: drain it first)"};
}

}  // namespace

const char* ApplyNoteKindName(ApplyNote::Kind kind) {
  switch (kind) {
    case ApplyNote::Kind::kStalled: return "stalled";
    case ApplyNote::Kind::kAnswered: return "answered";
    case ApplyNote::Kind::kGaveUp: return "gave_up";
  }
  return "?";
}

Task<ApplyReport> SetStateEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                     std::string_view server, AdminState state, ApplyOptions options) {
  Change change;
  change.backend = std::string(backend);
  change.server = std::string(server);
  change.operation = SetStateCommand(change.backend, change.server, state);
  change.applied = state == AdminState::kDrain   ? "the drain"
                   : state == AdminState::kMaint ? "the maint"
                                                 : "state ready";
  change.send = [&change, state](const Client& c) { return c.SetState(change.backend, change.server, state); };
  change.check = [state](const ServerState& st) { return CheckAdmin(st, state); };
  auto op = ApplyChange(clients, change, options);
  co_return co_await std::move(op);
}

Task<ApplyReport> SetWeightEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                      std::string_view server, Weight weight, ApplyOptions options) {
  Change change;
  change.backend = std::string(backend);
  change.server = std::string(server);
  change.operation = SetWeightCommand(change.backend, change.server, weight);
  change.applied = "weight " + weight.ToString();
  change.send = [&change, weight](const Client& c) { return c.SetWeight(change.backend, change.server, weight); };
  change.check = [weight](const ServerState& st) -> std::optional<std::string> {
    // HAProxy: a percentage is of the initial weight, rounded down, capped at 256.
    int want = weight.percent ? std::min(256, st.iweight * weight.value / 100) : weight.value;
    if (st.uweight == want) return std::nullopt;
    return "srv_uweight is " + std::to_string(st.uweight) + ", expected " + std::to_string(want);
  };
  auto op = ApplyChange(clients, change, options);
  co_return co_await std::move(op);
}

Task<ApplyReport> ShutdownSessionsEverywhere(const std::vector<const Client*>& clients, std::string_view backend,
                                             std::string_view server) {
  std::string b(backend), s(server);
  std::string op = ShutdownSessionsCommand(b, s);
  auto apply = [&](const Client& c) -> Task<InstanceOutcome> {
    InstanceOutcome out;
    out.instance = c.name();
    auto sending = c.ShutdownSessions(b, s);
    Status done = co_await std::move(sending);
    if (!done) {
      out.error = done.error();
      co_return out;
    }
    auto waiting = WaitNoSessions(c, b, s, op, std::chrono::seconds(1));
    out.error = co_await std::move(waiting);
    co_return out;
  };
  auto all = ForEachConcurrently(clients, apply);
  ApplyReport report;
  report.operation = op;
  report.outcomes = co_await std::move(all);
  co_return report;
}

}  // namespace caretaker::haproxy
