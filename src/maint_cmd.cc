// `caretaker maint list`, and what the maint subcommands share.
#include "src/maint_cmd.h"

#include "src/maint_list.h"
#include "src/maint_record.h"

namespace caretaker {

std::string MaintRecordsPath(const Config& config) { return config.state_dir + "/maintenance.toml"; }

int RunMaintList(const Config& config, bool json, const MaintIo& io) {
  auto records = OpenFileMaintRecords(MaintRecordsPath(config));
  auto list = records->List();
  if (!list) {
    io.err << "caretaker: " << list.error().message << "\n";
    return 1;
  }
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  io.out << (json ? RenderMaintListJson(list.value(), now) + "\n" : RenderMaintList(list.value(), now, io.color));
  return 0;
}

}  // namespace caretaker
