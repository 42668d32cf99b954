// `caretaker api-token NAME ROLE`: a new token for serve's HTTP API. The
// token goes to stdout (for its user; it is stored nowhere), the line for
// [api] tokens_file — name, role and the token's SHA-256 — to stderr.
#pragma once

#include <string>

#include "src/cli/maint_cmd.h"

namespace caretaker {

// Exit codes: 0 made, 1 no random bytes, 2 a name with spaces or '#'.
int RunApiToken(const std::string& name, const std::string& role, const MaintIo& io);

}  // namespace caretaker
