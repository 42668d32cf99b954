// Parser for `show stat` (CSV): the health, sessions and weight of servers.
//
// Columns are looked up by the names of the `# pxname,svname,...` header, never
// by position, so newer HAProxy versions with extra columns parse the same.
// Only server rows are returned (not FRONTEND / BACKEND summaries).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "haproxy/error.h"

namespace caretaker::haproxy {

// The `status` column, e.g. "UP", "DOWN 1/3", "MAINT (via be/srv)", "no check".
struct StatusField {
  enum class Word { kUp, kDown, kDrain, kMaint, kNolb, kNoCheck, kUnknown };
  Word word = Word::kUnknown;
  // "UP 1/3" (going down) / "DOWN 2/3" (coming up): the check counter and its
  // limit; both 0 when the status is stable.
  int transition_step = 0;
  int transition_of = 0;
  std::string via;  // "be/srv" of "MAINT (via be/srv)"; empty otherwise
  std::string raw;  // the column exactly as HAProxy wrote it
};

StatusField ParseStatusField(std::string_view text);
const char* StatusWordName(StatusField::Word word);  // "UP", "DOWN", "DRAIN", ...

struct ServerStat {
  std::string backend;  // pxname
  std::string server;   // svname
  StatusField status;
  int64_t scur = 0;     // current sessions
  int64_t smax = 0;
  int64_t stot = 0;
  int weight = 0;       // effective weight
  int uweight = -1;     // user weight, -1 when the column is absent
  std::string check_status;        // "L7OK", "L4CON", ... without the "* " prefix
  bool check_in_progress = false;  // the reply had "* " before check_status
  std::string check_desc;          // "Layer7 check passed"
  std::string addr;                // "127.0.0.1:3306"
  std::string tracked;             // "be/srv" when the server tracks another
  int64_t lastchg_s = -1;          // seconds since the last status change
};

// Parses a whole `show stat` reply. A reply without the header, with a row
// that has fewer fields than the header, or without the pxname/svname/status
// columns is a kParse error that quotes the offending line number.
Result<std::vector<ServerStat>> ParseShowStat(std::string_view reply);

}  // namespace caretaker::haproxy
