// A scripted ReplicaProbe for tests of the layers above (gates, maint): no
// server, no threads. Answers come from a queue per server ("host:port"); the
// last answer repeats once the queue is down to one. Every probe is recorded.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "mysql/probe.h"

namespace caretaker::mysql {

class FakeReplicaProbe : public ReplicaProbe {
 public:
  // Appends an answer for the server `where` ("127.0.0.1:3306").
  void Script(const std::string& where, Result<ReplicaStatus> answer) { answers_[where].push_back(std::move(answer)); }

  Task<Result<ReplicaStatus>> Probe(Target target, ProbeOptions options) override {
    (void)options;
    const std::string where = Where(target);
    probed_.push_back(where);
    auto it = answers_.find(where);
    if (it == answers_.end() || it->second.empty()) {
      co_return Error{ErrorCode::kConnect, 0, "MySQL " + where + ": no answer scripted in FakeReplicaProbe"};
    }
    Result<ReplicaStatus> answer = it->second.front();
    if (it->second.size() > 1) it->second.pop_front();
    co_return answer;
  }

  // "host:port" of every probe, in order.
  const std::vector<std::string>& probed() const { return probed_; }

 private:
  std::map<std::string, std::deque<Result<ReplicaStatus>>> answers_;
  std::vector<std::string> probed_;
};

}  // namespace caretaker::mysql
