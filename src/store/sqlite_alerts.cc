// The SQLite state store's Alertmanager alerts; see state_store.h and alerts.h.
#include <string>

#include "src/store/sqlite_store_impl.h"

namespace caretaker::sqlite_store {
namespace {

using sqlite::Row;
using sqlite::Value;


constexpr auto kKept = std::chrono::hours(24 * 7);

// {alertname="X", instance="db1:9104"} startsAt 2026-12-08T00:46:50.695Z: summary
std::string Describe(const AlertNotice& a) {
  std::string out = "{";
  for (const auto& [name, value] : a.labels) {
    out += (out.size() > 1 ? ", " : "") + name + "=\"" + value + "\"";
  }
  out += "} startsAt " + FormatUtcMillis(a.starts_at);
  if (!a.summary.empty()) out += ": " + a.summary;
  return out;
}

}  // namespace

Result<AlertIntake> SqliteStore::TakeAlerts(const std::vector<AlertNotice>& alerts, WallTime now,
                                            const AuditEntry& actor) {
  AlertIntake intake;
  auto written = Write([&]() -> Result<void> {
    intake = {};
    for (const AlertNotice& a : alerts) {
      const std::vector<Value> key{Value::Text(a.fingerprint), Value::Int(Ms(a.starts_at))};
      auto known = db_->Query("SELECT firing FROM alerts WHERE fingerprint = ?1 AND starts_ms = ?2", key);
      if (!known) return known.error();
      const Value ends = a.ends_at ? Value::Int(Ms(*a.ends_at)) : Value::Null();
      if (!known.value().empty()) {
        const bool was_firing = known.value().front().Int(0) != 0;
        // A duplicate, or a late "firing" copy of what was resolved: seen
        // again, nothing else changes.
        if (!was_firing || a.firing) {
          ++intake.duplicates;
          auto seen = db_->Query(
              "UPDATE alerts SET last_ms = ?3, ends_ms = CASE WHEN firing = 1 THEN ?4 ELSE ends_ms END "
              "WHERE fingerprint = ?1 AND starts_ms = ?2",
              {key[0], key[1], Value::Int(Ms(now)), ends});
          if (!seen) return seen.error();
          continue;
        }
        auto resolved = db_->Query(
            "UPDATE alerts SET firing = 0, ends_ms = ?3, last_ms = ?4, resolved_ms = ?4 "
            "WHERE fingerprint = ?1 AND starts_ms = ?2",
            {key[0], key[1], ends, Value::Int(Ms(now))});
        if (!resolved) return resolved.error();
      } else {
        auto put = db_->Query(
            "INSERT INTO alerts (fingerprint, starts_ms, firing, ends_ms, summary, first_ms, last_ms, resolved_ms) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
            {key[0], key[1], Value::Int(a.firing ? 1 : 0), ends, Value::Text(a.summary), Value::Int(Ms(now)),
             a.firing ? Value::Null() : Value::Int(Ms(now))});
        if (!put) return put.error();
        for (const auto& [name, value] : a.labels) {
          auto label = db_->Query(
              "INSERT INTO alert_labels (fingerprint, starts_ms, name, value) VALUES (?1, ?2, ?3, ?4)",
              {key[0], key[1], Value::Text(name), Value::Text(value)});
          if (!label) return label.error();
        }
      }
      ++(a.firing ? intake.firing : intake.resolved);
      AuditEntry e = actor;
      e.action = a.firing ? "alert.firing" : "alert.resolved";
      e.target = a.fingerprint;
      e.detail = Describe(a);
      if (auto added = Append(std::move(e)); !added) return added;
    }
    // A firing alert is kept however long Alertmanager is silent (it is
    // still firing, or unknown past a rule's max_age: never healthy), until
    // it is resolved or the same alert fires again (a newer startsAt).
    const Value old = Value::Int(Ms(now - kKept));
    constexpr const char* kGone =
        "SELECT fingerprint, starts_ms FROM alerts a WHERE (firing = 0 AND resolved_ms < ?1) OR (last_ms < ?1 AND "
        "EXISTS (SELECT 1 FROM alerts b WHERE b.fingerprint = a.fingerprint AND b.starts_ms > a.starts_ms))";
    for (const std::string sql : {std::string("DELETE FROM alert_labels WHERE (fingerprint, starts_ms) IN (") + kGone + ")",
                                  std::string("DELETE FROM alerts WHERE (fingerprint, starts_ms) IN (") + kGone + ")"}) {
      auto gone = db_->Query(sql, {old});
      if (!gone) return gone.error();
    }
    return boost::outcome_v2::success();
  });
  if (!written) return written.error();
  return intake;
}

Result<std::vector<StoredAlert>> SqliteStore::ListAlerts() const {
  auto rows = db_->Query(
      "SELECT fingerprint, starts_ms, firing, ends_ms, summary, first_ms, last_ms, resolved_ms FROM alerts "
      "ORDER BY first_ms, fingerprint, starts_ms");
  if (!rows) return rows.error();
  auto labels = db_->Query("SELECT fingerprint, starts_ms, name, value FROM alert_labels");
  if (!labels) return labels.error();
  std::vector<StoredAlert> out;
  std::map<std::pair<std::string, int64_t>, size_t> index;
  for (const Row& row : rows.value()) {
    StoredAlert s;
    s.alert.fingerprint = row.Text(0);
    s.alert.starts_at = FromMs(row.Int(1));
    s.alert.firing = row.Int(2) != 0;
    if (!row.IsNull(3)) s.alert.ends_at = FromMs(row.Int(3));
    s.alert.summary = row.Text(4);
    s.first_seen = FromMs(row.Int(5));
    s.last_seen = FromMs(row.Int(6));
    if (!row.IsNull(7)) s.resolved_at = FromMs(row.Int(7));
    index[{s.alert.fingerprint, row.Int(1)}] = out.size();
    out.push_back(std::move(s));
  }
  for (const Row& row : labels.value()) {
    auto it = index.find({row.Text(0), row.Int(1)});
    if (it != index.end()) out[it->second].alert.labels[row.Text(2)] = row.Text(3);
  }
  return out;
}

}  // namespace caretaker::sqlite_store
