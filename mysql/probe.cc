#include "mysql/probe.h"

namespace caretaker::mysql {

Task<Result<ReplicaStatus>> RealReplicaProbe::Probe(Target target, ProbeOptions options) {
  std::function<Result<ReplicaStatus>()> work = [target = std::move(target), options = std::move(options)] {
    return ProbeReplicaOnce(target, options);
  };
  auto op = RunBlocking(pool_, std::move(work));
  co_return co_await std::move(op);
}

}  // namespace caretaker::mysql
