// A rule's condition on what a source read (src/walk/rule_eval.h).
#include <catch2/catch.hpp>

#include "src/walk/rule_eval.h"

namespace caretaker {
namespace {

using namespace std::chrono_literals;
using Is = Verdict::Is;

Condition Probe(const char* text) { return ParseCondition(text, RuleSource::kProbe).value(); }
Condition Nagios(const char* text) { return ParseCondition(text, RuleSource::kNagios).value(); }

ProbeFacts Replica(std::optional<Millis> lag, bool io = true, bool sql = true) {
  ProbeFacts f;
  mysql::ReplicaStatus r;
  r.io_thread = io ? mysql::ThreadState::kYes : mysql::ThreadState::kNo;
  r.sql_thread = sql ? mysql::ThreadState::kYes : mysql::ThreadState::kNo;
  r.lag = lag;
  r.warmup = mysql::ParseBufferPoolLoad("Buffer pool(s) load completed at 261125  7:07:13");
  f.replica = r;
  f.check_up = true;
  f.check_text = "lb1 UP, lb2 UP";
  f.flapping = false;
  return f;
}

TEST_CASE("rule_eval: probe conditions hold, do not, or are unknown", "[rule]") {
  CHECK(Evaluate(Probe("lag > 30s"), Replica(42s)).is == Is::kHolds);
  CHECK(Evaluate(Probe("lag > 30s"), Replica(42s)).text == "lag 42s");
  CHECK(Evaluate(Probe("lag > 30s"), Replica(30s)).is == Is::kNot);
  CHECK(Evaluate(Probe("lag < 5s"), Replica(std::nullopt)).is == Is::kUnknown);
  CHECK(Evaluate(Probe("replication is stopped"), Replica(0s, true, false)).is == Is::kHolds);
  CHECK(Evaluate(Probe("replication is running"), Replica(0s, true, false)).is == Is::kNot);
  CHECK(Evaluate(Probe("replication is stopped"), Replica(0s)).is == Is::kNot);
  ProbeFacts dead;
  dead.mysql_error = "db3:3306: Connection refused";
  dead.check_up = false;
  dead.flapping = true;
  dead.check_text = "lb1 DOWN";
  CHECK(Evaluate(Probe("mysqld is unreachable"), dead).is == Is::kHolds);
  CHECK(Evaluate(Probe("mysqld is reachable"), dead).is == Is::kNot);
  // A lag nobody could read is unknown, never "not lagging".
  CHECK(Evaluate(Probe("lag < 5s"), dead).is == Is::kUnknown);
  CHECK(Evaluate(Probe("lag > 30s"), dead).is == Is::kUnknown);
  CHECK(Evaluate(Probe("check is down"), dead).is == Is::kHolds);
  CHECK(Evaluate(Probe("check is flapping"), dead).is == Is::kHolds);
  CHECK(Evaluate(Probe("check is steady"), dead).is == Is::kNot);
  ProbeFacts unread = Replica(0s);
  unread.check_up.reset();
  unread.flapping.reset();
  CHECK(Evaluate(Probe("check is up"), unread).is == Is::kUnknown);
  CHECK(Evaluate(Probe("check is flapping"), unread).is == Is::kUnknown);
  ProbeFacts cold = Replica(0s);
  cold.replica->warmup = mysql::ParseBufferPoolLoad("Loaded 5/100 pages");
  CHECK(Evaluate(Probe("buffer_pool is cold"), cold).is == Is::kHolds);
  CHECK(Evaluate(Probe("buffer_pool is warm"), Replica(0s)).is == Is::kHolds);
}

// check_mysql -S -w 10 -c 60 (monitoring-plugins-standard 2.3.3) against a
// sandbox replica: in sync, its SQL thread stopped, and nothing listening.
const char* kCheckMysqlOk =
    "Uptime: 1  Threads: 3  Questions: 20  Slow queries: 0  Opens: 19  Open tables: 13  Queries per second avg: "
    "20.000 Slave IO: Yes Slave SQL: Yes Seconds Behind Master: 0|Connections=15c;;;; Open_files=35;;;; "
    "Open_tables=13;;;; Qcache_free_memory=1031272;;;; Qcache_hits=0c;;;; Qcache_inserts=0c;;;; "
    "Qcache_lowmem_prunes=0c;;;; Qcache_not_cached=0c;;;; Qcache_queries_in_cache=0;;;; Queries=20c;;;; "
    "Questions=14c;;;; Table_locks_waited=0c;;;; Threads_connected=1;;;; Threads_running=3;;;; Uptime=1c;;;; "
    "'seconds behind master'=0.000000s;10.000000;60.000000;\n";

TEST_CASE("rule_eval: nagios conditions on check_mysql's real output", "[rule]") {
  Result<PluginOutput> ok = ParsePluginOutput(0, kCheckMysqlOk);
  REQUIRE(ok.value().problems.empty());
  CHECK(ok.value().perf.size() == 16);
  Result<PluginOutput> stopped = ParsePluginOutput(2, "Slave IO: Yes Slave SQL: No Seconds Behind Master: (null)\n");
  Result<PluginOutput> down = ParsePluginOutput(2, "Can't connect to server on '127.0.0.1' (115)\n");
  CHECK(Evaluate(Nagios("state >= critical"), down).is == Is::kHolds);
  CHECK(Evaluate(Nagios("perf 'seconds behind master' < 5"), down).is == Is::kUnknown);
  Result<PluginOutput> unknown = ParsePluginOutput(3, "UNKNOWN - cannot parse\n");
  CHECK(Evaluate(Nagios("state >= critical"), ok).is == Is::kNot);
  CHECK(Evaluate(Nagios("state >= critical"), stopped).is == Is::kHolds);
  CHECK(Evaluate(Nagios("state >= critical"), stopped).text ==
        "CRITICAL: Slave IO: Yes Slave SQL: No Seconds Behind Master: (null)");
  CHECK(Evaluate(Nagios("state == ok"), unknown).is == Is::kUnknown);
  CHECK(Evaluate(Nagios("perf 'seconds behind master' > 60"), ok).is == Is::kNot);
  CHECK(Evaluate(Nagios("perf 'seconds behind master' < 5"), ok).is == Is::kHolds);
  CHECK(Evaluate(Nagios("perf 'seconds behind master' < 5"), ok).text == "'seconds behind master'=0s");
  CHECK(Evaluate(Nagios("perf 'seconds behind master' < 5"), stopped).is == Is::kUnknown);
  Result<PluginOutput> failed = Error{"check_mysql: timed out after 10s"};
  CHECK(Evaluate(Nagios("state >= warning"), failed).is == Is::kUnknown);
  CHECK(Evaluate(Nagios("state >= warning"), failed).text == "check_mysql: timed out after 10s");
}

TEST_CASE("rule_eval: `when` negated for a rule without clear, unknown stays unknown", "[rule]") {
  CHECK(Negated({Is::kHolds, "lag 42s"}).is == Is::kNot);
  CHECK(Negated({Is::kNot, "lag 0s"}).is == Is::kHolds);
  CHECK(Negated({Is::kUnknown, "?"}).is == Is::kUnknown);
}

}  // namespace
}  // namespace caretaker
