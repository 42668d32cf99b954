// Building blocks of the config tests: small valid documents and the message
// a bad one gets. Shared by config_test.cc and config_gates_test.cc.
#pragma once

#include <chrono>
#include <string>

#include "src/config/config.h"

namespace caretaker::config_testing {

using namespace std::chrono_literals;

// A valid document is kLb + kPool + kMember (lines 1-8).
inline const std::string kLb = "[[haproxy]]\nname = \"lb1\"\nsocket = \"unix:/run/a.sock\"\n";  // 1-3
inline const std::string kLb2 = "[[haproxy]]\nname = \"lb2\"\nsocket = \"tcp:10.0.0.2:9999\"\n";
inline const std::string kPool = "[[pools]]\nname = \"p\"\n";                                    // 4-5
inline const std::string kMember = "[[pools.members]]\nserver = \"db1\"\nhost = \"h1\"\n";       // 6-8
inline const std::string kValid = kLb + kPool + kMember;

// `n` members db1..dbN, for pools whose capacity policy must work.
inline std::string Members(int n) {
  std::string out;
  for (int i = 1; i <= n; ++i) {
    out += "[[pools.members]]\nserver = \"db" + std::to_string(i) + "\"\nhost = \"h" + std::to_string(i) + "\"\n";
  }
  return out;
}

// The first CheckPoolPolicy message of a document that loads ("" when every
// pool's policy works).
inline std::string PolicyErrorOf(const std::string& toml) {
  auto config = ParseConfig(toml, "policy.toml");
  if (!config) return "does not load: " + config.error().message;
  for (const PoolConfig& p : config.value().pools) {
    auto valid = CheckPoolPolicy(config.value(), p);
    if (!valid) return valid.error().message;
  }
  return "";
}

// The message of a document that must be refused ("" when it loads).
inline std::string ErrorOf(const std::string& toml) {
  auto config = ParseConfig(toml, "bad.toml");
  return config ? std::string() : config.error().message;
}

struct BadConfig {
  std::string toml;
  std::string message;
};

}  // namespace caretaker::config_testing
