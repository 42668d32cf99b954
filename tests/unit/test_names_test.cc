// A guard on the tests themselves: catch_discover_tests registers each case
// with CTest by name, and CMake splits a name at ';' into two tests that each
// match nothing, so the case would silently never run in `make test`.
#include <catch2/catch.hpp>

namespace caretaker {
namespace {

TEST_CASE("no test case name holds a semicolon (CTest would split it and run neither half)", "[meta]") {
  const auto& all = Catch::getRegistryHub().getTestCaseRegistry().getAllTests();
  REQUIRE(all.size() > 100);
  for (const Catch::TestCase& test : all) {
    INFO(test.name);
    CHECK(test.name.find(';') == std::string::npos);
  }
}

}  // namespace
}  // namespace caretaker
