// A walk's bake checks read for one member back in traffic (walker.h
// WalkSpec::bake_checks): each check is a rule's source and condition
// (probe, nagios, prometheus, graphite, alertmanager: the alerts `alerts`
// keeps, null when none), read once for that member; any
// that holds is "fired" (naming the condition and the value), else any
// unknown is "unknown" (naming why), else "clear".
#pragma once

#include <boost/asio/io_context.hpp>
#include <vector>

#include "src/base/async.h"
#include "src/config/config.h"
#include "src/run/step_runner.h"
#include "src/run/walk_io.h"
#include "src/store/alerts.h"
#include "src/walk/walker.h"

namespace caretaker {

Awaitable<BakeReading> ReadBakeChecks(boost::asio::io_context& io, const Config& config, WalkIo& world,
                                      StepRunner& steps, const PoolConfig& pool, const MemberConfig& member,
                                      const std::vector<RuleConfig>& checks, const AlertBook* alerts);

}  // namespace caretaker
