// See api_tokens.h.
#include "src/serve/api_tokens.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <sstream>

#include "src/config/config.h"

namespace caretaker {

namespace {

std::array<unsigned char, 32> Digest(std::string_view text) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

std::string Hex(const unsigned char* data, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view ApiRoleName(ApiRole role) {
  switch (role) {
    case ApiRole::kViewer: return "viewer";
    case ApiRole::kOperator: return "operator";
    case ApiRole::kAlertmanager: return "alertmanager";
  }
  return "viewer";
}

Result<std::vector<ApiToken>> ReadApiTokens(const std::string& path) {
  auto text = ReadSecretFile(path, "the API tokens file");
  if (!text) return text.error();
  std::vector<ApiToken> tokens;
  std::istringstream lines(text.value());
  std::string line;
  for (int n = 1; std::getline(lines, line); ++n) {
    if (size_t hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string name, role, hex, extra;
    if (!(words >> name)) continue;  // blank or comment
    const std::string where = path + ":" + std::to_string(n) + ": ";
    if (!(words >> role >> hex) || (words >> extra)) {
      return Error{where + "expected NAME ROLE SHA256-HEX (three words; `caretaker api-token NAME ROLE` makes a line)"};
    }
    ApiToken token;
    token.name = name;
    if (role == "viewer") {
      token.role = ApiRole::kViewer;
    } else if (role == "operator") {
      token.role = ApiRole::kOperator;
    } else if (role == "alertmanager") {
      token.role = ApiRole::kAlertmanager;
    } else {
      return Error{where + "the role of " + name + " must be viewer, operator or alertmanager"};
    }
    if (hex.size() != 64) {
      return Error{where + "the digest of " + name + " must be 64 hex digits (SHA-256 of the token, not the token)"};
    }
    for (size_t i = 0; i < 32; ++i) {
      int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
      if (hi < 0 || lo < 0) return Error{where + "the digest of " + name + " is not hex"};
      token.digest[i] = static_cast<unsigned char>(hi * 16 + lo);
    }
    for (const ApiToken& seen : tokens) {
      if (seen.name == name) return Error{where + "the name " + name + " is used twice"};
    }
    tokens.push_back(std::move(token));
  }
  if (tokens.empty()) return Error{path + ": no token in the API tokens file"};
  return tokens;
}

std::optional<ApiToken> FindApiToken(const std::vector<ApiToken>& tokens, std::string_view presented) {
  if (presented.empty()) return std::nullopt;
  const std::array<unsigned char, 32> digest = Digest(presented);
  std::optional<ApiToken> found;
  for (const ApiToken& t : tokens) {
    // No early exit: the time taken does not say which token came close.
    if (CRYPTO_memcmp(t.digest.data(), digest.data(), digest.size()) == 0 && !found) found = t;
  }
  return found;
}

std::string TokenDigestHex(std::string_view token) {
  std::array<unsigned char, 32> d = Digest(token);
  return Hex(d.data(), d.size());
}

std::string NewApiToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return "";
  return "ct_" + Hex(bytes, sizeof bytes);
}

}  // namespace caretaker
