// Helpers for the tests of the HAProxy reply parsers: read a captured reply
// from tests/fixtures/haproxy/, and mutate replies at random for robustness
// tests (same seed, same mutations).
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <string_view>

#include "haproxy/error.h"

namespace caretaker::haproxy::testing {

// The bytes of tests/fixtures/haproxy/<name>; fails the test if it is missing.
inline std::string ReadFixture(std::string_view name) {
  const std::string path = std::string(CARETAKER_FIXTURES_DIR) + "/haproxy/" + std::string(name);
  std::ifstream file(path, std::ios::binary);
  if (!file) FAIL("missing fixture " << path);
  std::ostringstream bytes;
  bytes << file.rdbuf();
  return bytes.str();
}

// The value of `result`, or a test failure that prints the error's message.
template <class T>
const T& ValueOf(const Result<T>& result) {
  if (!result) FAIL("unexpected error (" << ErrorCodeName(result.error().code)
                                         << "): " << result.error().message);
  return result.value();
}

// The error of `result`, or a test failure when it is a value.
template <class T>
const Error& ErrorOf(const Result<T>& result) {
  if (result) FAIL("expected an error, got a value");
  return result.error();
}

// `reply` with every "\n" turned into "\r\n".
inline std::string WithCrlf(std::string_view reply) {
  std::string out;
  for (const char c : reply) {
    if (c == '\n') out.push_back('\r');
    out.push_back(c);
  }
  return out;
}

// One to four random edits of `reply`: a byte changed, a range deleted or
// duplicated, a separator inserted, or the tail cut off.
inline std::string Mutate(std::string reply, std::mt19937& rng) {
  using namespace std::string_view_literals;
  constexpr std::string_view kInserts = ",\n\r\" #/()*-0123456789:\0\xff"sv;
  auto pick = [&rng](size_t n) { return std::uniform_int_distribution<size_t>(0, n)(rng); };
  const size_t edits = 1 + pick(3);
  for (size_t e = 0; e < edits; ++e) {
    const size_t at = pick(reply.size());
    const size_t len = pick(std::min<size_t>(40, reply.size() - at));
    switch (pick(4)) {
      case 0:
        if (at < reply.size()) reply[at] = static_cast<char>(pick(255));
        break;
      case 1: reply.erase(at, len); break;
      case 2: reply.insert(at, 1, kInserts[pick(kInserts.size() - 1)]); break;
      case 3: reply.insert(at, reply.substr(at, len)); break;
      default: reply.resize(at); break;
    }
  }
  return reply;
}

}  // namespace caretaker::haproxy::testing
