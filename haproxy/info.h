// Parser for `show info`: "Name: value" lines describing the process.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "haproxy/error.h"

namespace caretaker::haproxy {

struct Info {
  std::string version;      // "2.6.12-1+deb12u4"
  int64_t pid = 0;
  int64_t uptime_s = 0;
  std::map<std::string, std::string, std::less<>> fields;  // every line, verbatim
};

// kParse when there is no "Version:" line (this is not a `show info` reply).
Result<Info> ParseShowInfo(std::string_view reply);

}  // namespace caretaker::haproxy
