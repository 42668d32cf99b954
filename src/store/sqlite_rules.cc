// The SQLite state store's memory of rules; see state_store.h.
#include <set>
#include <string>

#include "src/store/sqlite_store_impl.h"

namespace caretaker::sqlite_store {
namespace {

using sqlite::Row;
using sqlite::Value;


}  // namespace

Result<RuleMemory> SqliteStore::ReadRuleMemory(const std::string& rule) const {
  RuleMemory m;
  auto actions = db_->Query(
      "SELECT pool, server, kind, at_ms, ended_ms FROM rule_actions WHERE rule = ?1 ORDER BY at_ms, rowid",
      {Value::Text(rule)});
  if (!actions) return actions.error();
  for (const Row& row : actions.value()) {
    RuleMemory::Action a{row.Text(0), row.Text(1), row.Text(2), FromMs(row.Int(3)), std::nullopt};
    if (!row.IsNull(4)) a.ended = FromMs(row.Int(4));
    m.actions.push_back(std::move(a));
  }
  auto firings =
      db_->Query("SELECT pool, server, at_ms FROM rule_firings WHERE rule = ?1 ORDER BY at_ms, rowid", {Value::Text(rule)});
  if (!firings) return firings.error();
  for (const Row& row : firings.value()) m.firings.push_back({row.Text(0), row.Text(1), FromMs(row.Int(2))});
  auto breaker = db_->Query("SELECT tripped FROM rule_breakers WHERE rule = ?1", {Value::Text(rule)});
  if (!breaker) return breaker.error();
  if (!breaker.value().empty()) m.tripped = breaker.value().front().Text(0);
  return m;
}

Result<void> SqliteStore::WriteRuleMemory(const std::string& rule, const RuleMemory& m) {
  auto before = ReadRuleMemory(rule);
  if (!before) return before.error();
  return Write([&]() -> Result<void> {
    for (const char* table : {"rule_actions", "rule_firings", "rule_breakers"}) {
      auto gone = db_->Query(std::string("DELETE FROM ") + table + " WHERE rule = ?1", {Value::Text(rule)});
      if (!gone) return gone.error();
    }
    for (const RuleMemory::Action& a : m.actions) {
      auto put = db_->Query(
          "INSERT INTO rule_actions (rule, pool, server, kind, at_ms, ended_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
          {Value::Text(rule), Value::Text(a.pool), Value::Text(a.server), Value::Text(a.kind), Value::Int(Ms(a.at)),
           a.ended ? Value::Int(Ms(*a.ended)) : Value::Null()});
      if (!put) return put.error();
    }
    for (const RuleMemory::Firing& f : m.firings) {
      auto put = db_->Query("INSERT INTO rule_firings (rule, pool, server, at_ms) VALUES (?1, ?2, ?3, ?4)",
                            {Value::Text(rule), Value::Text(f.pool), Value::Text(f.server), Value::Int(Ms(f.at))});
      if (!put) return put.error();
    }
    if (m.tripped) {
      auto put = db_->Query("INSERT INTO rule_breakers (rule, tripped) VALUES (?1, ?2)",
                            {Value::Text(rule), Value::Text(*m.tripped)});
      if (!put) return put.error();
    }
    // The breaker's changes are audited with the write that makes them.
    if (m.tripped && !before.value().tripped) return Append({0, {}, "", "rule.tripped", "rule:" + rule, *m.tripped});
    if (!m.tripped && before.value().tripped) {
      return Append({0, {}, "", "rule.reset", "rule:" + rule, "was open: " + *before.value().tripped});
    }
    return boost::outcome_v2::success();
  });
}

Result<std::vector<std::string>> SqliteStore::RulesRemembered() const {
  auto rows = db_->Query(
      "SELECT rule FROM rule_actions UNION SELECT rule FROM rule_firings UNION SELECT rule FROM rule_breakers "
      "ORDER BY 1");
  if (!rows) return rows.error();
  std::vector<std::string> out;
  for (const Row& row : rows.value()) out.push_back(row.Text(0));
  return out;
}

Result<std::optional<RuleStatus>> SqliteStore::ReadRuleStatus(const std::string& rule) const {
  auto eval = db_->Query("SELECT at_ms, took_ms, error FROM rule_evaluations WHERE rule = ?1", {Value::Text(rule)});
  if (!eval) return eval.error();
  if (eval.value().empty()) return std::optional<RuleStatus>();
  RuleStatus st;
  const Row& e = eval.value().front();
  st.at = FromMs(e.Int(0));
  st.took = Millis(e.Int(1));
  st.error = e.Text(2);
  auto members = db_->Query(
      "SELECT pool, server, phase, since_ms, why FROM rule_members WHERE rule = ?1 ORDER BY pool, server",
      {Value::Text(rule)});
  if (!members) return members.error();
  for (const Row& row : members.value()) {
    RuleStatus::Member m{row.Text(0), row.Text(1), row.Text(2), std::nullopt, row.Text(4)};
    if (!row.IsNull(3)) m.since = FromMs(row.Int(3));
    st.members.push_back(std::move(m));
  }
  return std::optional<RuleStatus>(std::move(st));
}

Result<void> SqliteStore::WriteRuleStatus(const std::string& rule, const RuleStatus& st) {
  return Write([&]() -> Result<void> {
    for (const char* table : {"rule_evaluations", "rule_members"}) {
      auto gone = db_->Query(std::string("DELETE FROM ") + table + " WHERE rule = ?1", {Value::Text(rule)});
      if (!gone) return gone.error();
    }
    auto put = db_->Query("INSERT INTO rule_evaluations (rule, at_ms, took_ms, error) VALUES (?1, ?2, ?3, ?4)",
                          {Value::Text(rule), Value::Int(Ms(st.at)), Value::Int(st.took.count()), Value::Text(st.error)});
    if (!put) return put.error();
    for (const RuleStatus::Member& m : st.members) {
      auto row = db_->Query(
          "INSERT INTO rule_members (rule, pool, server, phase, since_ms, why) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
          {Value::Text(rule), Value::Text(m.pool), Value::Text(m.server), Value::Text(m.phase),
           m.since ? Value::Int(Ms(*m.since)) : Value::Null(), Value::Text(m.why)});
      if (!row) return row.error();
    }
    return boost::outcome_v2::success();
  });
}

}  // namespace caretaker::sqlite_store
