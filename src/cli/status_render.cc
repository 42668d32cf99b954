// Renderings of a StatusReport: a table for people, JSON for scripts.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <ostream>
#include "src/cli/status_cmd.h"

namespace caretaker {
namespace {

using haproxy::Admin;
using haproxy::MergedServer;
using haproxy::ServerOnInstance;
using Word = haproxy::StatusField::Word;

// What one instance says of one server, in one cell: the admin state when it
// is not READY (show stat hides DRAIN behind DOWN), else the health.
std::string Cell(const ServerOnInstance& on) {
  if (on.error) return "ERROR";
  if (!on.present) return "missing";
  const auto& status = on.stat.status;
  if (on.admin == Admin::kMaint) return status.word == Word::kMaint ? status.raw : "MAINT";
  if (on.admin == Admin::kDrain) {
    if (status.word == Word::kDrain) return status.raw;
    return status.word == Word::kDown ? "DRAIN (DOWN)" : "DRAIN (" + status.raw + ")";
  }
  return status.raw;
}

const char* CellColor(const std::string& cell) {
  if (cell.starts_with("UP") || cell == "no check") return "\033[32m";  // green
  if (cell.starts_with("DRAIN") || cell.starts_with("NOLB")) return "\033[33m";  // yellow
  return "\033[31m";  // red: DOWN, MAINT, missing, ERROR
}

std::string CheckText(const MergedServer& s) {
  std::string first;
  bool same = true;
  std::string all;
  for (const ServerOnInstance& on : s.instances) {
    if (!on.present) continue;
    std::string c = on.stat.check_status.empty() ? "-" : on.stat.check_status;
    if (on.stat.check_in_progress) c = "* " + c;
    if (first.empty()) first = c;
    same = same && c == first;
    all += (all.empty() ? "" : " ") + on.instance + ":" + c;
  }
  if (first.empty()) return "-";
  return same ? first : all;
}

// REPL, LAG and WARMUP cells.
std::vector<std::string> MysqlCells(const mysql::Result<mysql::ReplicaStatus>* probe) {
  if (probe == nullptr) return {"-", "-", "-"};
  if (!*probe) return {mysql::ShortText(probe->error()), "-", "-"};
  return {ThreadsText(probe->value()), LagText(probe->value()), WarmupText(probe->value())};
}

std::string Pad(const std::string& s, size_t width) {
  return s + std::string(width - std::min(width, s.size()) + 2, ' ');
}

std::string Address(const PoolConfig& pool, const std::string& server) {
  const MemberConfig* m = pool.FindMember(server);
  return m ? m->host + ":" + std::to_string(m->port) : "(not in config)";
}

// POLICY: "in service", "OUT: MySQL unreachable", or "in (down)" when the
// policy counts an unhealthy member as in service.
std::string PolicyCell(const policies::CapacityPolicy& policy, const policies::Member* m) {
  if (m == nullptr) return "-";
  if (m->state == policies::Member::State::kInService) return "in service";
  const std::string state = policies::StateName(m->state);
  return policies::CountsAsOut(policy, m->state) ? "OUT: " + state : "in (" + state + ")";
}

std::string PoolHeader(const PoolStatus& p, const policies::PoolSnapshot& snapshot) {
  size_t up = 0, counted_in = 0;  // in service; unhealthy but counted in by the policy
  for (const policies::Member& m : snapshot.members) {
    up += m.state == policies::Member::State::kInService;
    counted_in += m.state != policies::Member::State::kInService && !policies::CountsAsOut(p.pool->capacity, m.state);
  }
  std::string lbs;
  for (const std::string& name : p.pool->haproxy) lbs += (lbs.empty() ? "" : ", ") + name;
  size_t n = p.pool->members.size();
  return "pool " + p.pool->name + "  (backend " + p.pool->backend + " on " + lbs + ")  " + std::to_string(n) +
         (n == 1 ? " member, " : " members, ") + std::to_string(up) + " in service" +
         (counted_in > 0 ? " (and " + std::to_string(counted_in) +
                               " unhealthy counted in service: count_unhealthy_as_out = false)"
                         : "") +
         "\n";
}

std::string PoolTable(const StatusReport& report, const PoolStatus& p, const policies::PoolSnapshot& snapshot,
                      bool color) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"SERVER", "MYSQL"};
  for (const std::string& name : p.pool->haproxy) header.push_back(name);
  header.insert(header.end(), {"SESS", "CHECK"});
  if (report.mysql_probed) header.insert(header.end(), {"REPL", "LAG", "WARMUP"});
  header.insert(header.end(), {"POLICY", ""});
  rows.push_back(header);
  for (const MergedServer& s : p.view.servers) {
    std::vector<std::string> row = {s.server, Address(*p.pool, s.server)};
    for (const ServerOnInstance& on : s.instances) row.push_back(Cell(on));
    // Cells already show "missing" / "ERROR"; the note is for two instances
    // that answered and hold different admin states.
    size_t read = std::count_if(s.instances.begin(), s.instances.end(),
                                [](const ServerOnInstance& on) { return on.present; });
    std::string note = read >= 2 && !s.admin ? "instances disagree" : "";
    std::string sessions = read == 0 ? "-" : std::to_string(s.sessions);
    row.insert(row.end(), {sessions, CheckText(s)});
    if (report.mysql_probed) {
      std::vector<std::string> cells = MysqlCells(MysqlOf(report, *p.pool, s.server));
      row.insert(row.end(), cells.begin(), cells.end());
    }
    row.push_back(PolicyCell(p.pool->capacity, PolicyOf(snapshot, s.server)));
    row.push_back(note);
    rows.push_back(row);
  }
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  size_t first_lb = 2, end_lb = 2 + p.pool->haproxy.size();
  size_t repl = report.mysql_probed ? end_lb + 2 : header.size();
  for (size_t r = 0; r < rows.size(); ++r) {
    std::string line = "  ";
    for (size_t i = 0; i < rows[r].size(); ++i) {
      std::string cell = Pad(rows[r][i], width[i]);
      const char* tint = nullptr;
      if (color && r > 0 && i >= first_lb && i < end_lb) tint = CellColor(rows[r][i]);
      if (color && r > 0 && i == repl && rows[r][i] != "-") {
        tint = rows[r][i] == "IO:Yes SQL:Yes" ? "\033[32m" : "\033[31m";
      }
      if (color && r > 0 && i + 2 == rows[r].size() && rows[r][i].starts_with("OUT")) tint = "\033[31m";
      line += tint ? std::string(tint) + cell + "\033[0m" : cell;
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string RenderStatusTable(const StatusReport& report, bool color) {
  std::string out;
  for (const PoolStatus& p : report.pools) {
    if (!out.empty()) out += "\n";
    const policies::PoolSnapshot snapshot = PolicySnapshot(report, p);
    out += PoolHeader(p, snapshot);
    for (const std::string& lb : p.backend_missing_on) {
      out += "  ! backend " + p.pool->backend + " does not exist on " + lb + "\n";
    }
    out += PoolTable(report, p, snapshot, color);
    // The full sentence of each MySQL error, once per member.
    for (const MemberConfig& m : p.pool->members) {
      auto it = report.mysql.find(MemberWhere(m));
      if (it != report.mysql.end() && !it->second) out += "  ! " + m.server + ": " + it->second.error().message + "\n";
    }
  }
  for (const auto& e : report.instance_errors) out += "\n! " + e.error->message + "\n";
  if (!report.mysql_error.empty()) out += "\n! MySQL not probed: " + report.mysql_error + "\n";
  return out;
}

std::string RenderStatusJson(const StatusReport& report) {
  std::ostringstream out;
  WriteStatusJson(report, out);
  return out.str();
}

void WriteStatusJson(const StatusReport& report, std::ostream& out) {
  // A pool at a time: the report is never copied whole into one document.
  out << "{\"pools\":[";
  for (size_t i = 0; i < report.pools.size(); ++i) {
    out << (i ? "," : "") << boost::json::serialize(PoolStatusView(report, report.pools[i]));
  }
  out << "],\"mysql_error\":"
      << (report.mysql_error.empty() ? std::string("null") : boost::json::serialize(boost::json::value(report.mysql_error)))
      << ",\"errors\":" << boost::json::serialize(StatusErrorsView(report)) << "}";
}

}  // namespace caretaker
