// The API's tokens: a file of mode 0600 (refused otherwise, like the MySQL
// password file), one token per line as "NAME ROLE SHA256-HEX", `#` starts a
// comment. Only the digest is stored; a presented token is hashed and
// compared with every digest in constant time. ROLE is `viewer` (reads),
// `operator` (reads and changes) or `alertmanager` (posts Alertmanager's
// notifications to the intake, and nothing else: the token an
// Alertmanager's config holds can neither read nor change anything).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "src/base/result.h"

namespace caretaker {

enum class ApiRole { kViewer, kOperator, kAlertmanager };
std::string_view ApiRoleName(ApiRole role);

struct ApiToken {
  std::string name;
  ApiRole role = ApiRole::kViewer;
  std::array<unsigned char, 32> digest{};
};

// The tokens of the file at `path`; an error names the file and line, never
// a token's text or digest.
Result<std::vector<ApiToken>> ReadApiTokens(const std::string& path);
// The token `presented` is (its name and role), or nullopt. Every digest is
// compared, each in constant time.
std::optional<ApiToken> FindApiToken(const std::vector<ApiToken>& tokens, std::string_view presented);

// SHA-256 of `token`, as 64 lowercase hex digits.
std::string TokenDigestHex(std::string_view token);
// A new random token (32 bytes from the kernel, hex): "" when none could be read.
std::string NewApiToken();

}  // namespace caretaker
