// `caretaker maint list`, and what the maint subcommands share.
#include "src/maint_cmd.h"

#include "src/maint_list.h"
#include "src/maint_record.h"
#include "src/maint_session.h"
#include "src/state_open.h"

namespace caretaker {

int RunMaintList(const Config& config, bool json, const MaintIo& io) {
  auto store = OpenStateStore(config, OperatorName() + " (caretaker maint list)");
  if (!store) {
    io.err << "caretaker: " << store.error().message << "\n";
    return 1;
  }
  auto list = store.value()->List();
  if (!list) {
    io.err << "caretaker: " << list.error().message << "\n";
    return 1;
  }
  auto now = NowSeconds();
  io.out << (json ? RenderMaintListJson(list.value(), now) + "\n" : RenderMaintList(list.value(), now, io.color));
  return 0;
}

}  // namespace caretaker
