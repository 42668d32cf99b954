// serve's HTTP API (/api/v1), its health endpoints and /metrics: one handler
// for HttpServer. Reads are GETs; every change is a POST with a JSON body
// and a mandatory "reason", allowed to `operator` tokens only, written to
// the audit trail (actor, role, address, request id, action, target,
// reason) BEFORE it is made, and its result written before the reply. A
// change a safety rule refuses is 409 with the sentence the CLI prints.
// Errors are application/problem+json (RFC 9457: type, title, status,
// detail). No cookies, no CORS: a browser's cross-site request, a Host that
// is not ours (DNS rebinding) or a POST that is not application/json is
// refused before anything is read.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "src/config/config.h"
#include "src/serve/api_tokens.h"
#include "src/serve/http_server.h"
#include "src/store/state_store.h"

namespace caretaker {

namespace api_detail {
struct Call;
}  // namespace api_detail

struct PoolReading;

// A person's maintenance of one member through the API, walked by serve
// (member_walk.h) on a driver of its own, inside the host budget and the halt.
struct MemberWalkRequest {
  std::string pool;
  std::string server;
  bool take_out = false;  // else put back (its record taken over as it stands)
  std::string who;
  std::string reason;
  std::optional<SysSeconds> until = {};
  bool force_sessions = false;
};

// What the daemon lets the API see and do.
class ApiHost {
 public:
  virtual ~ApiHost() = default;
  virtual const Config& config() const = 0;
  virtual StateStore& store() = 0;
  // Jobs this serve runs now, by id: their pool.
  virtual std::map<int64_t, std::string> Running() const = 0;
  // Starts the walk; its end is written to the audit trail (maint.walk.end).
  virtual void WalkMember(MemberWalkRequest request) = 0;
  // Puts back the members `job` left out of traffic, each a walk as
  // WalkMember's; once all are back the job ends "restored". Its end is
  // written to the audit trail (job.restore.end).
  virtual void RestoreJob(Job job, std::string who, std::string reason) = 0;
  // A RestoreJob of job `id` runs now.
  virtual bool Restoring(int64_t job) const = 0;
  // A change the loop should act on at once (a job queued, a halt lifted).
  virtual void Wake() = 0;
  // Alertmanager's intake journaled a notification: counted, and the rules
  // of source "alertmanager" evaluated at once when it changed anything.
  virtual void AlertsTaken(const AlertIntake& intake) = 0;
  // serve's last reading of every pool (pool_watch.h); null before the first.
  virtual std::shared_ptr<const PoolReading> Pools() const = 0;
  // The /metrics page (Prometheus text format 0.0.4).
  virtual std::string Metrics() = 0;
};

class Api {
 public:
  Api(ApiHost& host, std::vector<ApiToken> tokens) : host_(host), tokens_(std::move(tokens)) {}
  void SetTokens(std::vector<ApiToken> tokens) { tokens_ = std::move(tokens); }

  HttpAnswer Handle(const HttpExchange& x);

  // Requests answered, by route pattern ("/api/v1/jobs/{id}", "other") and status code.
  const std::map<std::pair<std::string, int>, uint64_t>& requests() const { return requests_; }

 private:
  // Host, cross-site, health, token, /metrics, the route, a POST's body:
  // then the route (api_routes.cc).
  HttpAnswer Gate(api_detail::Call& call);

  ApiHost& host_;
  std::vector<ApiToken> tokens_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
};

// A problem+json answer (RFC 9457); `detail` also kept in the answer's own.
HttpAnswer Problem(int status, const std::string& detail);

}  // namespace caretaker
