// Prometheus and Graphite replies read (src/walk/monitor_reply.h), on
// replies captured from the real servers (tests/fixtures/prometheus-2.42,
// tests/fixtures/graphite-1.1; their READMEs say how).
#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "src/walk/monitor_reply.h"

namespace caretaker {
namespace {

struct Captured {
  int status = 0;
  std::string body;
};

// A .reply fixture: the HTTP status on the first line, the body after it.
Captured ReadReply(const std::string& dir, const std::string& name) {
  const std::string path = std::string(CARETAKER_FIXTURES_DIR) + "/" + dir + "/" + name + ".reply";
  std::ifstream file(path, std::ios::binary);
  if (!file) FAIL("missing fixture " << path);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  const std::string all = bytes.str();
  const size_t nl = all.find('\n');
  return {std::stoi(all.substr(0, nl)), all.substr(nl + 1)};
}

Result<PromResult> Prom(const std::string& name) {
  Captured c = ReadReply("prometheus-2.42", name);
  return ParsePrometheusReply(c.status, c.body);
}

Condition ValueAbove(double n) {
  Condition c;
  c.subject = Condition::Subject::kValue;
  c.op = Condition::Op::kGt;
  c.number = n;
  return c;
}

}  // namespace

TEST_CASE("Prometheus vector, scalar and special values, as a real one sends them", "[monitor]") {
  auto v = Prom("vector");
  REQUIRE(v);
  CHECK_FALSE(v.value().scalar);
  REQUIRE(v.value().samples.size() == 1);
  const PromSample& s = v.value().samples[0];
  CHECK(s.value == 1);
  CHECK(s.text == "1");
  REQUIRE(s.Label("server"));
  CHECK(*s.Label("server") == "db1");
  CHECK(*s.Label("instance") == "127.0.0.1:19090");
  CHECK(s.Label("nope") == nullptr);

  auto scalar = Prom("scalar");
  REQUIRE(scalar);
  CHECK(scalar.value().scalar);
  REQUIRE(scalar.value().samples.size() == 1);
  CHECK(scalar.value().samples[0].labels.empty());

  auto nan = Prom("scalar-nan");
  REQUIRE(nan);
  CHECK(std::isnan(nan.value().samples[0].value));
  CHECK(nan.value().samples[0].text == "NaN");

  auto inf = Prom("vector-inf");
  REQUIRE(inf);
  CHECK(std::isinf(inf.value().samples[0].value));
  CHECK(inf.value().samples[0].value > 0);

  auto empty = Prom("vector-empty");
  REQUIRE(empty);
  CHECK(empty.value().samples.empty());
}

TEST_CASE("Prometheus errors and results a rule cannot use are one clause of what the server said", "[monitor]") {
  struct Case {
    const char* fixture;
    const char* message;
  };
  const Case cases[] = {
      {"bad-data", "HTTP 400 bad_data: invalid parameter \"query\": 1:7: parse error: unclosed left parenthesis"},
      {"execution", "HTTP 422 execution: found duplicate series for the match group"},
      {"timeout", "HTTP 503 timeout: query timed out in expression evaluation"},
      {"not-found", "HTTP 404 with a body that is not Prometheus' JSON: \"404 page not found\""},
      {"matrix", "the query gives a matrix result; a rule needs an instant vector (one number per series) or a scalar"},
      {"string", "the query gives a string result"},
  };
  for (const Case& c : cases) {
    INFO(c.fixture);
    auto r = Prom(c.fixture);
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::StartsWith(c.message));
  }
}

TEST_CASE("Prometheus replies that are not what it sends are refused, never read as values", "[monitor]") {
  const std::pair<int, std::string> cases[] = {
      {502, "<html><body>Bad Gateway</body></html>"},
      {200, ""},
      {200, "{\"status\":\"success\"}"},
      {200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,2]}]}}"},
      {200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,\"x\"]}]}}"},
      {200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"a\":1},\"value\":[1,\"1\"]}]}}"},
      {200, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1]}}"},
      {503, "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"1\"]}}"},
      {200, "[1,2,3]"},
  };
  for (const auto& [status, body] : cases) {
    INFO(status << " " << body);
    CHECK_FALSE(ParsePrometheusReply(status, body));
  }
}

TEST_CASE("a value's verdict: NaN is unknown, infinities compare", "[monitor]") {
  const Condition above = ValueAbove(30);
  CHECK(EvaluateValue(above, 42, "42").is == Verdict::Is::kHolds);
  CHECK(EvaluateValue(above, 42, "42").text == "value 42");
  CHECK(EvaluateValue(above, 3, "3").is == Verdict::Is::kNot);
  CHECK(EvaluateValue(above, INFINITY, "+Inf").is == Verdict::Is::kHolds);
  CHECK(EvaluateValue(above, -INFINITY, "-Inf").is == Verdict::Is::kNot);
  const Verdict nan = EvaluateValue(above, NAN, "NaN");
  CHECK(nan.is == Verdict::Is::kUnknown);
  CHECK(nan.text == "value NaN: not a number");
}

}  // namespace caretaker

namespace caretaker {

TEST_CASE("Graphite render JSON: value first, null for a missing point, the last non-null point counts", "[monitor]") {
  Captured c = ReadReply("graphite-1.1", "series");
  auto r = ParseGraphiteReply(c.status, c.body);
  REQUIRE(r);
  REQUIRE(r.value().size() == 3);
  CHECK(r.value()[0].target == "mysql.db1.lag");
  CHECK(r.value()[2].target == "mysql.db3.lag");
  CHECK(r.value()[0].points.size() == 10);
  CHECK_FALSE(r.value()[0].points.back().value);  // the newest slot has no point yet
  std::optional<GraphitePoint> db1 = LastValue(r.value()[0]);
  REQUIRE(db1);
  CHECK(*db1->value == 1);
  std::optional<GraphitePoint> db3 = LastValue(r.value()[2]);
  REQUIRE(db3);
  CHECK(*db3->value == 42.5);
  CHECK(db3->time == db1->time - 1);  // sent at T-2, db1's last at T-1
  CHECK(db3->time > 1700000000);      // the timestamp is second, the value first

  Captured a = ReadReply("graphite-1.1", "aliased");
  auto aliased = ParseGraphiteReply(a.status, a.body);
  REQUIRE(aliased);
  CHECK(aliased.value()[1].target == "db2");

  Captured none = ReadReply("graphite-1.1", "none");
  auto empty = ParseGraphiteReply(none.status, none.body);
  REQUIRE(empty);
  CHECK(empty.value().empty());

  GraphiteSeries all_null{"x", {{std::nullopt, 1}, {std::nullopt, 2}}};
  CHECK_FALSE(LastValue(all_null));
}

TEST_CASE("Graphite errors are one clause of what it said, and a body that is not its JSON is refused", "[monitor]") {
  Captured f = ReadReply("graphite-1.1", "bad-function");
  auto bad = ParseGraphiteReply(f.status, f.body);
  REQUIRE_FALSE(bad);
  CHECK_THAT(bad.error().message,
             Catch::StartsWith("HTTP 400: \"Invalid parameters (Received request for unknown function: noSuchFunction)"));
  Captured nf = ReadReply("graphite-1.1", "not-found");
  auto missing = ParseGraphiteReply(nf.status, nf.body);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().message == "HTTP 404: \"<!doctype html>\"");
  const std::string garbage[] = {"", "{}", "[{\"target\":\"a\"}]", "[{\"target\":\"a\",\"datapoints\":[[1]]}]",
                                 "[{\"target\":\"a\",\"datapoints\":[[\"1\",2]]}]", "<html>"};
  for (const std::string& body : garbage) {
    INFO(body);
    CHECK_FALSE(ParseGraphiteReply(200, body));
  }
}

}  // namespace caretaker

namespace caretaker {
namespace {

struct Members {
  PoolConfig pool;
  std::vector<MonitoredMember> list;
  explicit Members(const std::vector<std::string>& servers) {
    pool.name = "replicas";
    for (const std::string& s : servers) pool.members.push_back({s, s + ".example", 3306});
    for (const MemberConfig& m : pool.members) list.push_back({&pool, &m, true});
  }
};

RuleConfig ValueRule(RuleSource source, const std::string& series_template, const std::string& label = "instance") {
  RuleConfig r;
  r.source = source;
  r.label = label;
  r.series_template = series_template;
  r.when = ValueAbove(30);
  Condition below;
  below.subject = Condition::Subject::kValue;
  below.op = Condition::Op::kLt;
  below.number = 5;
  r.clear = below;
  r.max_age = std::chrono::seconds(60);
  return r;
}

PromSample Sample(const std::string& instance, double v, const std::string& text) {
  PromSample s;
  s.labels = {{"__name__", "mysql_slave_status_seconds_behind_master"}, {"instance", instance}};
  s.value = v;
  s.text = text;
  return s;
}

}  // namespace

TEST_CASE("Prometheus series map to members by a label and a placeholder template, once each", "[monitor]") {
  // Tables: what each member's series is, and what the member reads.
  Members m({"db1", "db2", "db3", "db4", "db5"});
  m.list[4].read = false;  // out by a person: not read
  PromResult result;
  result.samples = {Sample("db1.example:9104", 0, "0"), Sample("db2.example:9104", 42, "42"),
                    Sample("db3.example:9104", 1, "1"), Sample("db3.example:9104", 2, "2"),
                    Sample("db5.example:9104", 99, "99"), Sample("other.example:9104", 99, "99")};
  const std::vector<RuleMember> v = PrometheusVerdicts(ValueRule(RuleSource::kPrometheus, "{host}:9104"), result, m.list);
  REQUIRE(v.size() == 5);
  struct Want {
    Verdict::Is when, clear;
    std::string text;
  };
  const Want want[] = {
      {Verdict::Is::kNot, Verdict::Is::kHolds, "value 0"},
      {Verdict::Is::kHolds, Verdict::Is::kNot, "value 42"},
      {Verdict::Is::kUnknown, Verdict::Is::kUnknown,
       "2 series with instance=\"db3.example:9104\": aggregate the query to one per member (max by (instance) (...))"},
      {Verdict::Is::kUnknown, Verdict::Is::kUnknown, "no series with instance=\"db4.example:9104\""},
      {Verdict::Is::kUnknown, Verdict::Is::kUnknown, ""},  // not read: no verdict at all
  };
  for (size_t i = 0; i < 5; ++i) {
    INFO(v[i].server);
    CHECK(v[i].pool == "replicas");
    CHECK(v[i].when.is == want[i].when);
    CHECK(v[i].clear.is == want[i].clear);
    CHECK(v[i].when.text == want[i].text);
  }
  // A scalar: every member's value.
  PromResult scalar;
  scalar.scalar = true;
  PromSample one;
  one.value = 31;
  one.text = "31";
  scalar.samples = {one};
  for (const RuleMember& r : PrometheusVerdicts(ValueRule(RuleSource::kPrometheus, "{server}"), scalar, m.list)) {
    if (r.server == "db5") continue;
    CHECK(r.when.is == Verdict::Is::kHolds);
  }
}

TEST_CASE("Graphite series map back to members by name, and a last point older than max_age is unknown", "[monitor]") {
  Members m({"db1", "db2", "db3", "db4"});
  const int64_t now = 1796406970;
  std::vector<GraphiteSeries> series = {
      {"mysql.db1.lag", {{0.0, now - 20}, {std::nullopt, now - 10}}},   // the last non-null point counts
      {"mysql.db2.lag", {{42.5, now - 59}, {std::nullopt, now}}},        // within max_age (60 s)
      {"mysql.db3.lag", {{42.5, now - 61}, {std::nullopt, now}}},        // stale
      {"mysql.db9.lag", {{1.0, now}}},                                   // of no member
  };
  const std::vector<RuleMember> v = GraphiteVerdicts(ValueRule(RuleSource::kGraphite, "mysql.{server}.lag"), series,
                                                     m.list, now);
  REQUIRE(v.size() == 4);
  CHECK(v[0].when.is == Verdict::Is::kNot);
  CHECK(v[0].clear.is == Verdict::Is::kHolds);
  CHECK(v[1].when.is == Verdict::Is::kHolds);
  CHECK(v[1].when.text == "value 42.5");
  CHECK(v[2].when.is == Verdict::Is::kUnknown);
  CHECK(v[2].when.text == "no datapoint of mysql.db3.lag within max_age 1m");
  CHECK(v[2].clear.is == Verdict::Is::kUnknown);  // stale never clears
  CHECK(v[3].when.is == Verdict::Is::kUnknown);
  CHECK(v[3].when.text == "no series mysql.db4.lag");
  // On the captured reply, its series renamed by aliasByNode: series = "{server}".
  Captured a = ReadReply("graphite-1.1", "aliased");
  auto aliased = ParseGraphiteReply(a.status, a.body);
  REQUIRE(aliased);
  const int64_t then = LastValue(aliased.value()[0])->time;
  const std::vector<RuleMember> w = GraphiteVerdicts(ValueRule(RuleSource::kGraphite, "{server}"), aliased.value(),
                                                     m.list, then + 5);
  CHECK(w[0].when.text == "value 1");
  CHECK(w[2].when.text == "value 42.5");
  CHECK(w[2].when.is == Verdict::Is::kHolds);
  CHECK(w[3].when.is == Verdict::Is::kUnknown);
}

}  // namespace caretaker
