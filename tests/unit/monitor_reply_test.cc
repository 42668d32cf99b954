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
