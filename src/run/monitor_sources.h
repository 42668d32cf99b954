// Rule sources that ask a monitoring server over HTTP, once per evaluation
// for all of a rule's members (never once per member):
//   Prometheus: GET /api/v1/query?query=Q&timeout=T; a member's series is
//     the one whose `label` equals the rule's label_value expanded for it.
//   Graphite: GET /render?target=T&from=-MAX_AGE&format=json, {server},
//     {host}, {pool} and {port} of the target asked as "*"; a member's
//     series is the one named as the rule's `series` expanded for it; the
//     last non-null point counts, and none within max_age is unknown.
//   Alertmanager: no query; the alerts its webhook sent to serve's intake,
//     as the state store keeps them (alert_reply.h says which are a member's).
// A server that cannot be reached, or answers an error or garbage, makes
// every member unknown (nothing acts, nothing clears) and is said once, in
// one sentence naming the server and the query (ConditionSource::Problem).
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "src/config/config.h"
#include "src/run/rule_sources.h"
#include "src/store/alerts.h"

namespace caretaker {

std::unique_ptr<ConditionSource> MakePrometheusSource(const MonitorServerConfig& server, boost::asio::io_context& io);
std::unique_ptr<ConditionSource> MakeGraphiteSource(const MonitorServerConfig& server, boost::asio::io_context& io);
// `alerts` null: this process keeps no alerts (every member unknown, said).
std::unique_ptr<ConditionSource> MakeAlertmanagerSource(const AlertBook* alerts);

}  // namespace caretaker
