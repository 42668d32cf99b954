// See serve_metrics.h.
#include "src/serve/serve_metrics.h"

#include "src/store/state_open.h"

namespace caretaker {

namespace {

// A record's phases, each a series even at 0 (a graph of a pool shows them all).
constexpr const char* kPhases[] = {"draining", "maint", "steps", "gates", "enabling"};
constexpr const char* kOpenStates[] = {"queued", "running", "paused", "failed", "stopped"};

}  // namespace

std::string RenderServeMetrics(const Config& config, const StateStore& store, const ServeCounters& counters,
                               const std::map<std::pair<std::string, int>, uint64_t>& http_requests,
                               SysSeconds now) {
  MetricsText m;
  m.Family("caretaker_build_info", "gauge", "Always 1; the version of caretaker serving.");
  m.Sample({{"version", "0.1.0"}}, 1);

  // Unknown is never healthy: a halt that cannot be read counts as halted.
  HaltCheck halt = CheckHalt(&store, config.halt_file);
  m.Family("caretaker_halted", "gauge", "1 while caretaker is halted (no automated action starts), else 0.");
  m.Sample({}, halt.halted ? 1 : 0);

  auto records = store.List();
  m.Family("caretaker_state_store_up", "gauge", "1 when the state store could be read for this scrape, else 0.");
  m.Sample({}, records ? 1 : 0);

  m.Family("caretaker_pool_members", "gauge", "Members configured in the pool.");
  for (const PoolConfig& p : config.pools) m.Sample({{"pool", p.name}}, static_cast<double>(p.members.size()));

  if (records) {
    m.Family("caretaker_members_out_of_traffic", "gauge",
             "Members of the pool out of traffic with a maintenance record, by the phase the record is in.");
    for (const PoolConfig& p : config.pools) {
      for (const char* phase : kPhases) {
        int n = 0;
        for (const MaintRecord& r : records.value()) n += r.pool == p.name && r.phase == phase;
        m.Sample({{"pool", p.name}, {"phase", phase}}, n);
      }
    }
    int expired = 0;
    for (const MaintRecord& r : records.value()) expired += r.Expired(now);
    m.Family("caretaker_hosts_in_maintenance", "gauge", "Hosts out of traffic with a maintenance record.");
    m.Sample({}, static_cast<double>(records.value().size()));
    m.Family("caretaker_maintenance_expired", "gauge", "Maintenance records past their end time.");
    m.Sample({}, expired);
  }

  if (auto open = store.OpenJobs(); open) {
    m.Family("caretaker_jobs", "gauge", "Jobs not finished, by state.");
    for (const char* state : kOpenStates) {
      int n = 0;
      for (const Job& j : open.value()) n += j.state == state;
      m.Sample({{"state", state}}, n);
    }
  }

  m.Family("caretaker_lock_held", "gauge", "1 while some process holds the pool's walk lease, else 0.");
  for (const PoolConfig& p : config.pools) {
    auto lease = store.ReadLease(p.name);
    const bool held = lease && lease.value() && lease.value()->expires > now;
    m.Sample({{"pool", p.name}}, held ? 1 : 0);
  }

  m.Family("caretaker_jobs_finished_total", "counter", "Jobs this serve ran that ended, by how they ended.");
  for (const auto& [result, n] : counters.jobs_finished) m.Sample({{"result", result}}, static_cast<double>(n));
  m.Family("caretaker_job_duration_seconds", "histogram", "How long the jobs this serve ran took, start to end.");
  m.Histogram({}, counters.job_seconds.bounds(), counters.job_seconds.counts(), counters.job_seconds.sum());

  m.Family("caretaker_http_requests_total", "counter", "API requests answered, by route and status code.");
  for (const auto& [key, n] : http_requests) {
    m.Sample({{"route", key.first}, {"code", std::to_string(key.second)}}, static_cast<double>(n));
  }
  return m.text();
}

}  // namespace caretaker
