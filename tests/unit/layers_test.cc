// src/ is layered (src/CMakeLists.txt): each folder includes only its own
// and the folders below it, and walk/ — pure decisions — includes no Asio,
// no logger and nothing that reaches Connector/C. Read from the source tree.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

namespace caretaker {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kLayers = {"base", "config", "store", "walk", "run", "serve", "cli"};

int LayerOf(const std::string& folder) {
  auto it = std::find(kLayers.begin(), kLayers.end(), folder);
  return it == kLayers.end() ? -1 : static_cast<int>(it - kLayers.begin());
}

std::vector<std::string> Includes(const fs::path& file) {
  std::ifstream in(file);
  std::vector<std::string> out;
  static const std::regex kInclude(R"re(^\s*#\s*include\s*[<"]([^>"]+)[>"])re");
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, kInclude)) out.push_back(m[1]);
  }
  return out;
}

TEST_CASE("every file of src/ includes only its own layer and the layers below it", "[layers]") {
  const fs::path src = fs::path(CARETAKER_SOURCE_DIR) / "src";
  size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(src)) {
    const fs::path& p = entry.path();
    if (p.extension() != ".h" && p.extension() != ".cc") continue;
    const std::string folder = p.parent_path().filename().string();
    INFO(p.string());
    const int mine = LayerOf(folder);
    REQUIRE(mine >= 0);  // no file outside a layer folder
    ++files;
    for (const std::string& inc : Includes(p)) {
      INFO("includes " << inc);
      if (inc.rfind("src/", 0) == 0) {
        const std::string to = inc.substr(4, inc.find('/', 4) - 4);
        CHECK(LayerOf(to) >= 0);
        CHECK(LayerOf(to) <= mine);
      }
      if (folder == "walk") {
        CHECK(inc.rfind("boost/asio", 0) != 0);
        CHECK(inc != "src/base/log.h");
        CHECK(inc.find("mysql.h") == std::string::npos);  // Connector/C itself
        CHECK(inc != "mysql/connection.h");
        CHECK(inc != "mysql/pool.h");
        CHECK(inc != "mysql/probe.h");
        CHECK(inc.rfind("haproxy/", 0) != 0);
      }
    }
  }
  CHECK(files > 80);
}

}  // namespace
}  // namespace caretaker
