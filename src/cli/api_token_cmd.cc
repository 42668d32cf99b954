// See api_token_cmd.h.
#include "src/cli/api_token_cmd.h"

#include "src/cli/exit_code.h"
#include "src/serve/api_tokens.h"

namespace caretaker {

int RunApiToken(const std::string& name, const std::string& role, const MaintIo& io) {
  if (name.empty() || name.find_first_of(" \t#") != std::string::npos) {
    io.err << "caretaker: a token name is one word without '#'\n";
    return kExitUsage;
  }
  const std::string token = NewApiToken();
  if (token.empty()) {
    io.err << "caretaker: no random bytes could be read for a token\n";
    return kExitFailed;
  }
  io.out << token << "\n";
  io.out.flush();
  io.err << "caretaker: the line above is the token (give it to its user; it is not stored anywhere). Append this "
            "line to [api] tokens_file (mode 0600), then SIGHUP serve:\n"
         << name << " " << role << " " << TokenDigestHex(token) << "\n";
  return 0;
}

}  // namespace caretaker
