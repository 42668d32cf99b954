// GET /api/v1/pools and /api/v1/pools/{name}: serve's last reading of each
// pool (pool_watch.h) with the maintenance records and leases as the store
// has them now, judged by the pool's capacity policy: what is in service,
// the floor, how many may go out now, and for each member whether it may.
// GET /api/v1/plan: what a roll would do from that reading, as `caretaker
// plan --json` says it.
#include <boost/json.hpp>

#include "src/run/plan_view.h"
#include "src/run/roll_setup.h"
#include "src/run/views.h"
#include "src/serve/api_call.h"
#include "src/serve/pool_watch.h"
#include "src/store/state_open.h"
#include "src/walk/job_run.h"

namespace caretaker::api_detail {

namespace json = boost::json;

namespace {

// A slug of the policy's state, as the metrics name it too.
const char* StateKey(policies::Member::State state) {
  using State = policies::Member::State;
  switch (state) {
    case State::kInService: return "in_service";
    case State::kDown: return "down";
    case State::kLagging: return "lagging";
    case State::kUnreachable: return "unreachable";
    case State::kDrained: return "drained";
    case State::kInMaintenance: return "in_maintenance";
  }
  return "unknown";
}

constexpr policies::Member::State kStates[] = {
    policies::Member::State::kInService, policies::Member::State::kDown,     policies::Member::State::kLagging,
    policies::Member::State::kUnreachable, policies::Member::State::kDrained, policies::Member::State::kInMaintenance};

HttpAnswer NotReadYet() {
  HttpAnswer a = Problem(503, "serve has not read the pools yet: it reads HAProxy and MySQL every " +
                                  std::to_string(PoolWatch::kEvery.count()) + " s");
  a.headers.emplace_back("Retry-After", "2");
  return a;
}

// The pool's counts and what its policy allows now.
json::object Capacity(const PoolConfig& pool, const policies::PoolSnapshot& snapshot) {
  int64_t in_service = 0, out = 0;
  json::object by_state;
  for (policies::Member::State s : kStates) by_state[StateKey(s)] = 0;
  for (const policies::Member& m : snapshot.members) {
    by_state[StateKey(m.state)] = by_state[StateKey(m.state)].as_int64() + 1;
    if (policies::CountsAsOut(pool.capacity, m.state)) {
      ++out;
    } else {
      ++in_service;
    }
  }
  const size_t size = snapshot.members.size();
  json::object o{{"in_service", in_service}, {"out", out}};
  o["floor"] = static_cast<int64_t>(policies::FloorCount(pool.capacity.min_in_service, size));
  o["max_out"] = pool.capacity.max_out ? json::value(static_cast<int64_t>(policies::MaxOutCount(*pool.capacity.max_out, size)))
                                       : json::value(nullptr);
  o["disruptions_allowed"] = static_cast<int64_t>(policies::Headroom(pool.capacity, snapshot));
  // The policy's own sentence, as a member in service would hear it.
  std::string sentence = "pool " + pool.name + ": no member is in service";
  for (const policies::Member& m : snapshot.members) {
    if (m.state != policies::Member::State::kInService) continue;
    sentence = policies::MayTakeOut(pool.capacity, snapshot, m.name).reason;
    break;
  }
  o["sentence"] = sentence;
  o["by_state"] = std::move(by_state);
  return o;
}

json::value LockView(StateStore& store, const std::string& pool, SysSeconds now) {
  auto lease = store.ReadLease(pool);
  if (!lease || !lease.value() || lease.value()->expires <= now) return nullptr;
  return json::object{{"owner", lease.value()->owner}, {"job", lease.value()->job},
                      {"expires", FormatUtc(lease.value()->expires)}};
}

json::object Summary(Call& call, const PoolReading& reading, const PoolStatus& p,
                     const std::vector<MaintRecord>& records, SysSeconds now) {
  const PoolConfig& pool = *p.pool;
  const policies::PoolSnapshot snapshot = PolicySnapshot(reading.report, p, records);
  json::object o{{"name", pool.name}, {"backend", pool.backend},
                 {"members", static_cast<int64_t>(pool.members.size())}};
  o["capacity"] = Capacity(pool, snapshot);
  int64_t recorded = 0;
  for (const MaintRecord& r : records) recorded += r.pool == pool.name;
  o["out_of_traffic"] = recorded;
  o["lock"] = LockView(call.host.store(), pool.name, now);
  auto head = PoolHead(call.host.store(), pool.name);
  o["queue_head"] = head && head.value() ? json::value(head.value()->id) : json::value(nullptr);
  bool complete = p.backend_missing_on.empty();
  for (const auto& e : reading.report.instance_errors) {
    for (const std::string& lb : pool.haproxy) complete = complete && lb != e.instance;
  }
  for (const MemberConfig& m : pool.members) {
    const auto* probe = MysqlOf(reading.report, pool, m.server);
    complete = complete && probe != nullptr && *probe;
  }
  o["read_completely"] = complete;
  return o;
}

json::object ReadingView(const PoolReading& reading) {
  return json::object{{"at", FormatUtc(reading.at)}, {"took_ms", static_cast<int64_t>(reading.took.count())},
                      {"every_s", static_cast<int64_t>(PoolWatch::kEvery.count())}};
}

// "a,b" as ["a", "b"] (empty items dropped).
std::vector<std::string> List(const std::string& text) {
  std::vector<std::string> out;
  for (size_t at = 0; at <= text.size();) {
    size_t comma = text.find(',', at);
    if (comma == std::string::npos) comma = text.size();
    if (comma > at) out.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

}  // namespace

// ?pool=a,b&task=T&limit=db1,db[23]&order=config|reverse|name
HttpAnswer GetPlan(Call& call) {
  const Config& config = call.host.config();
  RollOptions options;
  options.pools = List(call.Query("pool"));
  options.task = call.Query("task");
  options.limit = List(call.Query("limit"));
  if (!call.Query("order").empty()) options.order = call.Query("order");
  if (options.pools.empty() || options.task.empty()) {
    return Problem(400, "pool (one or several, comma-separated) and task are required: "
                        "/api/v1/plan?pool=replicas&task=restart");
  }
  auto walks = roll_detail::ResolveWalks(config, options);
  if (!walks) return Problem(422, walks.error().message);
  std::shared_ptr<const PoolReading> reading = call.host.Pools();
  // A reading of the config before a reload would plan its members under
  // the new one's policy.
  if (!reading || reading->config.get() != &config) return NotReadYet();
  auto records = call.host.store().List();
  if (!records) return Unreadable(records.error());
  std::vector<WalkPlan> plans;
  for (const roll_detail::PoolWalk& w : walks.value()) {
    const PoolStatus* p = reading->report.Find(w.pool->name);
    if (!p) return NotReadYet();  // a pool a reload added
    const PoolView view = PoolViewOf(reading->report, *p, records.value());
    plans.push_back(SimulateWalk(w.spec, view, static_cast<size_t>(config.roll.max_concurrent_hosts)));
  }
  json::object doc = roll_detail::PlanView(walks.value(), plans);
  doc["read"] = ReadingView(*reading);
  doc["changed"] = false;
  return Json(200, doc);
}

HttpAnswer GetPools(Call& call) {
  std::shared_ptr<const PoolReading> reading = call.host.Pools();
  if (!reading) return NotReadYet();
  auto records = call.host.store().List();
  if (!records) return Unreadable(records.error());
  const SysSeconds now = NowSeconds();
  json::array pools;
  for (const PoolStatus& p : reading->report.pools) pools.push_back(Summary(call, *reading, p, records.value(), now));
  return Json(200, {{"read", ReadingView(*reading)}, {"pools", std::move(pools)},
                    {"errors", StatusErrorsView(reading->report)}});
}

HttpAnswer GetPool(Call& call) {
  std::shared_ptr<const PoolReading> reading = call.host.Pools();
  const PoolStatus* p = reading ? reading->report.Find(call.name) : nullptr;
  if (!p) {
    if (call.host.config().FindPool(call.name) == nullptr) return Problem(404, "there is no pool " + call.name);
    return NotReadYet();
  }
  auto records = call.host.store().List();
  if (!records) return Unreadable(records.error());
  const SysSeconds now = NowSeconds();
  const PoolConfig& pool = *p->pool;
  const policies::PoolSnapshot snapshot = PolicySnapshot(reading->report, *p, records.value());
  json::object doc = Summary(call, *reading, *p, records.value(), now);
  json::object status = PoolStatusView(reading->report, *p);
  doc["haproxy"] = std::move(status["haproxy"]);
  doc["backend_missing_on"] = std::move(status["backend_missing_on"]);
  json::array& members = status["members"].as_array();
  for (json::value& v : members) {
    json::object& m = v.as_object();
    const std::string server(m.at("server").as_string());
    json::value record = nullptr;
    for (const MaintRecord& r : records.value()) {
      if (r.pool == pool.name && r.server == server) record = RecordView(r, now);
    }
    m["maintenance"] = std::move(record);
    if (m.at("configured").as_bool()) {
      const policies::Decision d = policies::MayTakeOut(pool.capacity, snapshot, server);
      m["may_go_out_now"] = json::object{{"allowed", d.allowed()}, {"reason", d.reason}};
    } else {
      m["may_go_out_now"] = nullptr;
    }
  }
  doc["members"] = std::move(members);
  doc["read"] = ReadingView(*reading);
  doc["errors"] = StatusErrorsView(reading->report);
  return Json(200, doc);
}

}  // namespace caretaker::api_detail
