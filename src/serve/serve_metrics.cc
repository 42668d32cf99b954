// See serve_metrics.h.
#include "src/serve/serve_metrics.h"

#include "src/store/state_open.h"
#include "src/walk/rule.h"

namespace caretaker {

namespace {

// A record's phases, each a series even at 0 (a graph of a pool shows them all).
constexpr const char* kPhases[] = {"draining", "maint", "steps", "gates", "enabling"};
constexpr const char* kOpenStates[] = {"queued", "running", "paused", "failed", "stopped"};

constexpr std::pair<policies::Member::State, const char*> kMemberStates[] = {
    {policies::Member::State::kInService, "in_service"},   {policies::Member::State::kDown, "down"},
    {policies::Member::State::kLagging, "lagging"},        {policies::Member::State::kUnreachable, "unreachable"},
    {policies::Member::State::kDrained, "drained"},        {policies::Member::State::kInMaintenance, "in_maintenance"}};

constexpr const char* kRulePhases[] = {"ok", "pending", "firing", "acting", "out", "clearing", "held", "ignored"};

// From serve's last reading of the pools, with the records as they are now.
void PoolFamilies(MetricsText& m, const PoolWatch& watch, const std::vector<MaintRecord>& records) {
  const Config* config = nullptr;
  if (std::shared_ptr<const PoolReading> reading = watch.last()) {
    config = reading->config.get();
    std::vector<policies::PoolSnapshot> snapshots;
    for (const PoolStatus& p : reading->report.pools) snapshots.push_back(PolicySnapshot(reading->report, p, records));
    const auto& pools = reading->report.pools;
    m.Family("caretaker_members", "gauge",
             "Members of the pool by their state for its capacity policy, at serve's last reading (unreadable counts "
             "as down or unreachable, never in service).");
    for (size_t i = 0; i < pools.size(); ++i) {
      for (const auto& [state, name] : kMemberStates) {
        int n = 0;
        for (const policies::Member& x : snapshots[i].members) n += x.state == state;
        m.Sample({{"pool", pools[i].pool->name}, {"state", name}}, n);
      }
    }
    m.Family("caretaker_members_in_service", "gauge", "Members of the pool the capacity policy counts as in service.");
    for (size_t i = 0; i < pools.size(); ++i) {
      int n = 0;
      for (const policies::Member& x : snapshots[i].members) n += !policies::CountsAsOut(pools[i].pool->capacity, x.state);
      m.Sample({{"pool", pools[i].pool->name}}, n);
    }
    m.Family("caretaker_members_floor", "gauge", "Members the pool must keep in service (min_in_service).");
    for (const PoolStatus& p : pools) {
      m.Sample({{"pool", p.pool->name}},
               static_cast<double>(policies::FloorCount(p.pool->capacity.min_in_service, p.pool->members.size())));
    }
    m.Family("caretaker_disruptions_allowed", "gauge", "Members in service that may go out now under the policy.");
    for (size_t i = 0; i < pools.size(); ++i) {
      m.Sample({{"pool", pools[i].pool->name}}, static_cast<double>(policies::Headroom(pools[i].pool->capacity, snapshots[i])));
    }
    m.Family("caretaker_pool_read_timestamp_seconds", "gauge", "When serve last read HAProxy and MySQL (Unix time).");
    m.Sample({}, static_cast<double>(reading->at.time_since_epoch().count()));
    m.Family("caretaker_pool_read_duration_seconds", "gauge", "How long serve's last read of HAProxy and MySQL took.");
    m.Sample({}, static_cast<double>(reading->took.count()) / 1000.0);
  }
  m.Family("caretaker_haproxy_probe_errors_total", "counter", "Reads of an HAProxy instance by serve that failed.");
  std::map<std::string, uint64_t> haproxy = watch.haproxy_errors();
  if (config) {
    for (const HaproxyConfig& h : config->haproxy) haproxy.try_emplace(h.name, 0);
  }
  for (const auto& [instance, n] : haproxy) m.Sample({{"instance", instance}}, static_cast<double>(n));
  m.Family("caretaker_mysql_probe_errors_total", "counter", "Probes of a member's MySQL (host:port) by serve that failed.");
  std::map<std::string, uint64_t> mysql = watch.mysql_errors();
  if (config) {
    for (const PoolConfig& p : config->pools) {
      for (const MemberConfig& x : p.members) mysql.try_emplace(MemberWhere(x), 0);
    }
  }
  for (const auto& [instance, n] : mysql) m.Sample({{"instance", instance}}, static_cast<double>(n));
}

// What keeps each pool's walk from going on, and how far the running ones are.
void WalkFamilies(MetricsText& m, const Config& config, const std::vector<Job>& open, bool halted,
                  const WalkMetrics& walks, SysSeconds now) {
  const std::map<std::string, WalkMetrics::Progress> running = walks.Running();
  m.Family("caretaker_walk_blocked", "gauge",
           "1 while the pool has a job that cannot go on for the reason: halted, window (outside its schedule's "
           "window), budget (the capacity policy lets no member out now), lag (a member waits for replication).");
  for (const PoolConfig& p : config.pools) {
    const bool has_job = std::any_of(open.begin(), open.end(), [&](const Job& j) { return j.pool == p.name; });
    auto walk = running.find(p.name);
    const bool out_of_window = p.schedule && !WindowAt(p.schedule->schedule, now);
    m.Sample({{"pool", p.name}, {"reason", "halted"}}, has_job && halted ? 1 : 0);
    m.Sample({{"pool", p.name}, {"reason", "window"}}, has_job && out_of_window && walk == running.end() ? 1 : 0);
    m.Sample({{"pool", p.name}, {"reason", "budget"}}, walk != running.end() && walk->second.budget ? 1 : 0);
    m.Sample({{"pool", p.name}, {"reason", "lag"}}, walk != running.end() && walk->second.lag ? 1 : 0);
  }
  m.Family("caretaker_walk_members", "gauge", "Members of the pool's running walk, by where they are in it.");
  for (const auto& [pool, progress] : running) {
    for (const auto& [state, n] : progress.members) m.Sample({{"pool", pool}, {"state", state}}, n);
  }
  m.Family("caretaker_walk_progress_ratio", "gauge", "The share of the running walk's members that have ended (0-1).");
  for (const auto& [pool, progress] : running) {
    int total = 0;
    for (const auto& [state, n] : progress.members) total += n;
    const int ended = total - progress.members.at("pending") - progress.members.at("active");
    m.Sample({{"pool", pool}}, total ? static_cast<double>(ended) / total : 0);
  }
  walks.Render(m);
}

void RuleFamilies(MetricsText& m, const Config& config, const StateStore& store, const RuleCounters& counters) {
  m.Family("caretaker_rule_members", "gauge", "Members a rule watches, by their state at its last evaluation.");
  for (const RuleConfig& r : config.rules) {
    auto status = store.ReadRuleStatus(r.name);
    if (!status || !status.value()) continue;
    for (const char* phase : kRulePhases) {
      int n = 0;
      for (const RuleStatus::Member& x : status.value()->members) n += x.phase == phase;
      m.Sample({{"rule", r.name}, {"state", phase}}, n);
    }
  }
  m.Family("caretaker_rule_breaker_open", "gauge", "1 while the rule's circuit breaker is open (it acts no more).");
  for (const RuleConfig& r : config.rules) {
    auto memory = store.ReadRuleMemory(r.name);
    if (memory) m.Sample({{"rule", r.name}}, memory.value().tripped ? 1 : 0);
  }
  m.Family("caretaker_rule_actions_total", "counter", "Actions this serve's rules took, by rule, action and result.");
  for (const auto& [key, n] : counters.actions) {
    m.Sample({{"rule", std::get<0>(key)}, {"action", std::get<1>(key)}, {"result", std::get<2>(key)}}, static_cast<double>(n));
  }
  m.Family("caretaker_rule_refusals_total", "counter",
           "Actions this serve's rules wanted and a guard refused, by rule and guard (halt, breaker, rate_limit, "
           "budget, other).");
  for (const auto& [key, n] : counters.refusals) m.Sample({{"rule", key.first}, {"guard", key.second}}, static_cast<double>(n));
}

}  // namespace

std::string RenderServeMetrics(const Config& config, const StateStore& store, const ServeCounters& counters,
                               const std::map<std::pair<std::string, int>, uint64_t>& http_requests,
                               SysSeconds now, const ServeLive& live) {
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

  if (live.pools) PoolFamilies(m, *live.pools, records ? records.value() : std::vector<MaintRecord>{});

  auto open = store.OpenJobs();
  if (open) {
    m.Family("caretaker_jobs", "gauge", "Jobs not finished, by state.");
    for (const char* state : kOpenStates) {
      int n = 0;
      for (const Job& j : open.value()) n += j.state == state;
      m.Sample({{"state", state}}, n);
    }
    if (live.walks) WalkFamilies(m, config, open.value(), halt.halted, *live.walks, now);
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

  if (live.rules) RuleFamilies(m, config, store, *live.rules);

  m.Family("caretaker_alerts_received_total", "counter",
           "Alerts Alertmanager sent to the intake, by what they were: firing (new), resolved, duplicate (known).");
  for (const char* result : {"firing", "resolved", "duplicate"}) {
    auto it = counters.alerts_received.find(result);
    m.Sample({{"result", result}}, it == counters.alerts_received.end() ? 0 : static_cast<double>(it->second));
  }
  if (auto alerts = store.ListAlerts()) {
    int firing = 0;
    for (const StoredAlert& a : alerts.value()) firing += a.alert.firing;
    m.Family("caretaker_alerts_firing", "gauge", "Alerts from Alertmanager kept as firing (not resolved).");
    m.Sample({}, firing);
  }

  m.Family("caretaker_http_requests_total", "counter", "API requests answered, by route and status code.");
  for (const auto& [key, n] : http_requests) {
    m.Sample({{"route", key.first}, {"code", std::to_string(key.second)}}, static_cast<double>(n));
  }
  return m.text();
}

}  // namespace caretaker
