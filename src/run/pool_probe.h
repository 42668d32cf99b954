// Every member of a pool probed at once: one connection each, on the MySQL
// thread pool behind `probe`, while the event loop goes on. What `maint
// start` and a walk's capacity decisions read replication from.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <map>
#include <string>

#include "mysql/probe.h"
#include "src/config/config.h"

namespace caretaker {

using MemberProbes = std::map<std::string, mysql::Result<mysql::ReplicaStatus>>;  // by server name

boost::asio::awaitable<MemberProbes> ProbeMembers(mysql::ReplicaProbe& probe, const Config& config,
                                                  const PoolConfig& pool, const std::string& password);

}  // namespace caretaker
