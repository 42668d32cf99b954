// The load generator of the sandbox (see load.h): one thread per client and
// one sampler thread; counts and records under one mutex, samples written by
// the sampler alone and read only after it is joined.
#include "tests/sandbox/load.h"

#include <errmsg.h>
#include <mysql.h>
#include <mysqld_error.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/sandbox/mysql_session.h"
#include "tests/sandbox/net.h"

namespace caretaker::sandbox {
namespace {

constexpr auto kSocketTimeout = std::chrono::seconds(2);

// A lost connection, as a pool sees it: the peer closed it (HAProxy's
// `shutdown sessions`), or the server killed it or is shutting down.
bool IsLost(unsigned code) {
  return code == CR_SERVER_LOST || code == CR_SERVER_GONE_ERROR || code == ER_CONNECTION_KILLED ||
         code == ER_SERVER_SHUTDOWN;
}

std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> fields;
  std::istringstream in(line);
  for (std::string field; std::getline(in, field, ',');) fields.push_back(field);
  return fields;
}

// Status of each server of backend `replicas` in a `show stat` reply; fields
// found by the header's names.
std::map<std::string, std::string> ParseStatus(const std::string& reply) {
  std::istringstream in(reply);
  std::string line;
  if (!std::getline(in, line) || line.rfind("# ", 0) != 0) {
    throw std::runtime_error("show stat: no '# ' header in reply: " + reply.substr(0, 200));
  }
  std::vector<std::string> names = SplitCsv(line.substr(2));
  auto index = [&](const std::string& name) {
    size_t at = std::find(names.begin(), names.end(), name) - names.begin();
    if (at == names.size()) throw std::runtime_error("show stat: no column " + name);
    return at;
  };
  const size_t px = index("pxname"), sv = index("svname"), st = index("status");
  std::map<std::string, std::string> status;
  while (std::getline(in, line)) {
    std::vector<std::string> f = SplitCsv(line);
    if (f.size() <= std::max({px, sv, st}) || f[px] != "replicas") continue;
    if (f[sv] == "FRONTEND" || f[sv] == "BACKEND") continue;
    status[f[sv]] = f[st];
  }
  return status;
}

std::string Seconds(LoadClock::duration d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", std::chrono::duration<double>(d).count());
  return text;
}

}  // namespace

const char* KindName(ClientKind kind) {
  switch (kind) {
    case ClientKind::kShort: return "short";
    case ClientKind::kPooled: return "pooled";
    case ClientKind::kSticky: return "sticky";
  }
  return "?";
}

struct Load::Impl {
  LoadOptions options;
  std::string password;
  std::vector<uint16_t> frontend_ports;       // per instance
  std::vector<std::string> admin_sockets;     // per instance
  std::map<uint16_t, std::string> server_of;  // replica port -> server name
  std::atomic<bool> stop{false};
  std::mutex mu;
  LoadReport report;  // kinds and reconnects under mu; samples by the sampler alone
  std::vector<std::thread> threads;

  std::string Via(size_t instance) const {
    return report.instance_names[instance] + " (127.0.0.1:" + std::to_string(frontend_ports[instance]) + ")";
  }
  void Counted(ClientKind kind) {
    std::lock_guard lock(mu);
    ++report.kinds[static_cast<size_t>(kind)].queries;
  }
  void Failed(ClientKind kind, int client, size_t instance, const std::string& what) {
    std::lock_guard lock(mu);
    KindCounts& counts = report.kinds[static_cast<size_t>(kind)];
    if (counts.errors++ == 0) {
      counts.first_error = std::string(KindName(kind)) + " client " + std::to_string(client) + " via " +
                           Via(instance) + ": " + what;
    }
  }
  void Reconnected(Reconnect r) {
    std::lock_guard lock(mu);
    ++report.kinds[static_cast<size_t>(r.kind)].reconnects;
    report.reconnects.push_back(std::move(r));
  }
  void Pause() const { std::this_thread::sleep_for(options.pause); }

  void RunClient(int client) {
    mysql_thread_init();
    switch (ClientKind kind = report.clients[client]) {
      case ClientKind::kShort: ShortLoop(client); break;
      case ClientKind::kPooled: PooledLoop(client, kind, options.pooled_lifetime); break;
      case ClientKind::kSticky: PooledLoop(client, kind, options.sticky_lifetime); break;
    }
    mysql_thread_end();
  }
  void ShortLoop(int client);
  void PooledLoop(int client, ClientKind kind, std::chrono::milliseconds lifetime);
  uint16_t PooledQuery(MysqlSession& conn, int client, ClientKind kind, size_t instance);
  void SamplerLoop();
};

void Load::Impl::ShortLoop(int client) {
  MysqlSession conn;
  for (size_t n = 0; !stop; ++n) {
    const size_t instance = (client + n) % frontend_ports.size();
    if (conn.Open(frontend_ports[instance], password) && conn.QueryPort() != 0) {
      Counted(ClientKind::kShort);
    } else {
      Failed(ClientKind::kShort, client, instance, conn.error());
    }
    conn.Close();
    Pause();
  }
}

// One query of a pooled client on `conn` (open): on a lost connection,
// records the reconnect, connects again and retries once. 0 on failure.
uint16_t Load::Impl::PooledQuery(MysqlSession& conn, int client, ClientKind kind, size_t instance) {
  if (uint16_t port = conn.QueryPort(); port != 0 || !IsLost(conn.error_code())) return port;
  Reconnect r{LoadClock::now(), kind, client, instance, conn.last_port(), "", conn.error_code(), conn.error()};
  auto server = server_of.find(r.port);
  r.server = server != server_of.end() ? server->second : "port " + std::to_string(r.port);
  Reconnected(std::move(r));
  if (!conn.Open(frontend_ports[instance], password)) return 0;
  return conn.QueryPort();
}

void Load::Impl::PooledLoop(int client, ClientKind kind, std::chrono::milliseconds lifetime) {
  const size_t instance = client % frontend_ports.size();
  MysqlSession conn;
  while (!stop) {
    if (conn.is_open() && conn.Age() >= lifetime) conn.Close();  // max lifetime: replaced
    if (!conn.is_open() && !conn.Open(frontend_ports[instance], password)) {
      Failed(kind, client, instance, conn.error());
    } else if (PooledQuery(conn, client, kind, instance) != 0) {
      Counted(kind);
    } else {
      Failed(kind, client, instance, conn.error());
      conn.Close();  // a pool discards a connection that failed
    }
    Pause();
  }
  conn.Close();
}

void Load::Impl::SamplerLoop() {
  auto next = LoadClock::now();
  while (!stop) {
    for (size_t i = 0; i < admin_sockets.size(); ++i) {
      try {
        Sample sample;
        sample.status = ParseStatus(QueryUnixSocket(admin_sockets[i], "show stat", kSocketTimeout));
        sample.at = LoadClock::now();
        for (const auto& [server, status] : sample.status) sample.in_service += status.rfind("UP", 0) == 0;
        report.samples[i].push_back(std::move(sample));
      } catch (const std::exception& e) {
        if (report.sampler_errors++ == 0) report.first_sampler_error = report.instance_names[i] + ": " + e.what();
      }
    }
    next += options.sample_interval;
    std::this_thread::sleep_until(std::max(next, LoadClock::now()));
  }
}

Load::Load() : impl_(std::make_unique<Impl>()) {}

Load::~Load() {
  if (impl_ && !impl_->threads.empty()) Stop();
}

std::unique_ptr<Load> Load::Start(const Sandbox& sb, const LoadOptions& options) {
  if (sb.haproxies().empty()) throw std::runtime_error("load: the sandbox has no HAProxy instance");
  std::unique_ptr<Load> load(new Load());
  Impl& impl = *load->impl_;
  impl.options = options;
  impl.password = sb.mysql_password();
  for (const auto& h : sb.haproxies()) {
    impl.frontend_ports.push_back(h.frontend_port);
    impl.admin_sockets.push_back(h.admin_socket);
    impl.report.instance_names.push_back(h.name);
  }
  for (const auto& r : sb.replicas()) impl.server_of[r.port] = r.name;
  impl.report.members = static_cast<int>(sb.replicas().size());
  impl.report.samples.resize(sb.haproxies().size());
  impl.report.clients.insert(impl.report.clients.end(), options.short_clients, ClientKind::kShort);
  impl.report.clients.insert(impl.report.clients.end(), options.pooled_clients, ClientKind::kPooled);
  impl.report.clients.insert(impl.report.clients.end(), options.sticky_clients, ClientKind::kSticky);
  mysql_library_init(0, nullptr, nullptr);  // not thread-safe: before any client thread
  impl.report.started = LoadClock::now();
  impl.threads.emplace_back([&impl] { impl.SamplerLoop(); });
  for (int client = 0; client < static_cast<int>(impl.report.clients.size()); ++client) {
    impl.threads.emplace_back([&impl, client] { impl.RunClient(client); });
  }
  return load;
}

LoadReport Load::Stop() {
  impl_->stop = true;
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  impl_->report.stopped = LoadClock::now();
  return impl_->report;
}

int LoadReport::MinInService(size_t instance) const {
  int least = -1;
  for (const Sample& s : samples[instance]) least = least < 0 ? s.in_service : std::min(least, s.in_service);
  return least;
}

const Sample* LoadReport::SampleBefore(size_t instance, LoadClock::time_point at) const {
  const auto& list = samples[instance];
  auto after = std::upper_bound(list.begin(), list.end(), at, [](auto t, const Sample& s) { return t < s.at; });
  return after == list.begin() ? nullptr : &*std::prev(after);
}

std::string LoadReport::Summary() const {
  std::ostringstream out;
  out << "load over " << Seconds(stopped - started) << ":\n";
  for (ClientKind kind : {ClientKind::kShort, ClientKind::kPooled, ClientKind::kSticky}) {
    const long clients = std::count(this->clients.begin(), this->clients.end(), kind);
    if (clients == 0) continue;
    const KindCounts& k = Of(kind);
    out << "  " << KindName(kind) << " (" << clients << " clients): " << k.queries << " queries ok, " << k.errors
        << " errors, " << k.reconnects << " reconnects";
    out << (k.first_error.empty() ? "" : " (first error: " + k.first_error + ")") << "\n";
  }
  for (const Reconnect& r : reconnects) {
    out << "  reconnect at +" << Seconds(r.at - started) << ": " << KindName(r.kind) << " client " << r.client
        << " via " << instance_names[r.instance] << ", was on " << r.server << ": " << r.error << "\n";
  }
  out << "  in service (fewest, over samples):";
  for (size_t i = 0; i < samples.size(); ++i) {
    out << (i == 0 ? " " : ", ") << instance_names[i] << " " << MinInService(i) << " of " << members << " ("
        << samples[i].size() << " samples)";
  }
  out << "\n";
  if (sampler_errors > 0) {
    out << "  sampler: " << sampler_errors << " failed reads (first: " << first_sampler_error << ")\n";
  }
  return out.str();
}

}  // namespace caretaker::sandbox
