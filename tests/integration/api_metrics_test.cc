// serve's /metrics scraped by a real Prometheus (Debian prometheus) with a
// viewer's token from a credentials_file, and queried through Prometheus.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "tests/integration/api_fixture.h"
#include "tests/sandbox/prometheus.h"

namespace caretaker {

using namespace api_testing;

TEST_CASE("the API: a real Prometheus scrapes serve's /metrics with a viewer's token and answers a query of "
          "caretaker_members",
          "[serve][api]") {
  ApiServe s = ApiConfig("api-prometheus");
  Served serve = Serve(s.config);
  REQUIRE(WaitForHealth(s, serve));
  const std::string credentials = WriteFileIn(RollSandbox(), "prometheus.token", s.viewer.secret + "\n");
  ::chmod(credentials.c_str(), 0600);
  // Ready once the six states of the pool's members are series.
  auto prom = sandbox::PrometheusStack::StartScraping(
      "  - job_name: caretaker\n    scrape_interval: 1s\n    authorization:\n      credentials_file: " + credentials +
          "\n    static_configs:\n      - targets: ['127.0.0.1:" + std::to_string(s.port) + "']\n",
      "caretaker_members{pool=\"replicas\"}", 6);
  const std::string up = prom->Query("up{job=\"caretaker\"}");
  INFO(up);
  CHECK(up.find("\"value\":[") != std::string::npos);
  CHECK(up.find("\"1\"]") != std::string::npos);
  const std::string in_service = prom->Query("caretaker_members{pool=\"replicas\",state=\"in_service\"}");
  INFO(in_service);
  CHECK(in_service.find("\"4\"]") != std::string::npos);
  const std::string total = prom->Query("sum(caretaker_members{pool=\"replicas\"})");
  INFO(total);
  CHECK(total.find("\"4\"]") != std::string::npos);
  // Its scrapes went through the token: the API counted them.
  CHECK(prom->WaitForSeries("caretaker_http_requests_total{route=\"/metrics\",code=\"200\"}", 1, 10s));
  serve.Stop();
}

}  // namespace caretaker
