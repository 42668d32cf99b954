// What every walk needs before anything changes (roll, serve's jobs, maint,
// job restore): every HAProxy instance at admin level, every pool readable
// with all its members, caretaker's MySQL account accepted by every member to
// walk, a weight ramp whose first step HAProxy does not round down to 0 — and
// the live view of each pool as it stands before the walk.
#pragma once

#include <optional>
#include <vector>

#include "src/run/fleet.h"
#include "src/run/roll_setup.h"
#include "src/run/walk_io.h"

namespace caretaker::roll_detail {

class Preflight {
 public:
  Preflight(const Config& config, WalkIo& world, std::vector<PoolWalk>& walks)
      : config_(config), world_(world), walks_(walks), fleet_(Fleet::FromConfig(config)) {}

  // nullopt when every check passed; else why, with its code (nothing was
  // changed).
  Awaitable<std::optional<Error>> Run();
  const std::vector<PoolView>& live() const { return live_; }
  const Fleet& fleet() const { return fleet_; }

 private:
  Awaitable<std::optional<Error>> CheckLevels();
  Awaitable<std::optional<Error>> CheckMysql(const PoolWalk& w);
  std::optional<Error> CheckRamp(const PoolWalk& w, const PoolView& view) const;

  const Config& config_;
  WalkIo& world_;
  std::vector<PoolWalk>& walks_;
  Fleet fleet_;
  std::vector<PoolView> live_;
};

}  // namespace caretaker::roll_detail
