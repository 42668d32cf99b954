// See audit_cmd.h.
#include "src/cli/audit_cmd.h"

#include <boost/json.hpp>

#include "src/cli/exit_code.h"
#include "src/run/views.h"
#include "src/store/state_open.h"

namespace caretaker {

int RunAudit(const Config& config, const AuditOptions& options, const MaintIo& io) {
  auto store = OpenStateStore(config, OperatorName() + " (caretaker audit)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n";
    return kExitFailed;
  }
  AuditQuery query{options.before, options.who, options.action, options.target, options.limit};
  auto entries = store.value()->ListAudit(query);
  if (!entries) {
    io.err << "caretaker: cannot read the audit trail: " << entries.error().message << "\n";
    return kExitFailed;
  }
  const std::vector<AuditEntry>& list = entries.value();
  // Another page may follow only when this one is full.
  const int64_t next = list.size() == options.limit && !list.empty() ? list.back().id : 0;
  if (options.json) {
    boost::json::array out;
    for (const AuditEntry& e : list) out.push_back(AuditView(e));
    boost::json::object doc{{"audit", std::move(out)}};
    doc["next"] = next ? boost::json::value(next) : boost::json::value(nullptr);
    io.out << JsonText(doc) << "\n";
    return 0;
  }
  if (list.empty()) {
    io.out << "no audit entries" << (options.who.empty() && options.action.empty() && options.target.empty() &&
                                             options.before == 0
                                         ? ""
                                         : " match")
           << "\n";
    return 0;
  }
  for (const AuditEntry& e : list) {
    io.out << "#" << e.id << "  " << FormatUtc(e.at) << "  " << e.who << "  " << e.action;
    if (!e.target.empty()) io.out << "  " << e.target;
    if (!e.detail.empty()) io.out << "  " << e.detail;
    if (!e.request_id.empty()) {
      io.out << "  [api " << e.role << " from " << e.remote << ", request " << e.request_id << ": "
             << (e.result.empty() ? "no result written" : e.result) << "]";
    }
    io.out << "\n";
  }
  if (next) io.out << "older: caretaker audit --before " << next << "\n";
  return 0;
}

}  // namespace caretaker
