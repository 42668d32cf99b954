#include "tests/sandbox/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace caretaker::sandbox {
namespace {

std::runtime_error Errno(std::string_view what, const std::string& path) {
  return std::runtime_error(std::string(what) + " " + path + ": " + std::strerror(errno));
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Errno("cannot read", path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, std::string_view text, mode_t mode, bool atomic) {
  std::string target = atomic ? path + ".tmp" : path;
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw Errno("cannot create", target);
  bool ok = ::fchmod(fd, mode) == 0;
  for (size_t done = 0; ok && done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  if (!ok) {
    auto error = Errno("cannot write", target);
    ::close(fd);
    throw error;
  }
  ::close(fd);
  if (atomic && ::rename(target.c_str(), path.c_str()) != 0) throw Errno("cannot rename to", path);
}

std::string TailFile(const std::string& path, size_t lines) {
  std::ifstream in(path);
  if (!in) return {};
  std::deque<std::string> last;
  for (std::string line; std::getline(in, line);) {
    last.push_back(std::move(line));
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (const auto& line : last) out += "  | " + line + "\n";
  return out;
}

std::string SeeLog(const std::string& path) {
  std::string tail = TailFile(path);
  return "; see " + path + (tail.empty() ? " (empty or unreadable)" : ":\n" + tail);
}

std::string RenderTemplate(std::string_view text, const TemplateVars& vars,
                           std::string_view origin) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t end = i + 1;
    while (text[i] == '{' && end < text.size() && IsNameChar(text[end])) ++end;
    if (text[i] != '{' || end == i + 1 || end >= text.size() || text[end] != '}') {
      out += text[i++];
      continue;
    }
    std::string name(text.substr(i + 1, end - i - 1));
    auto it = vars.find(name);
    if (it == vars.end()) {
      throw std::runtime_error("template " + std::string(origin) + ": unknown placeholder {" +
                               name + "}");
    }
    out += it->second;
    i = end + 1;
  }
  return out;
}

std::string TemplatePath(std::string_view name) {
  return std::string(CARETAKER_SOURCE_DIR) + "/conf/sandbox/" + std::string(name);
}

std::string RenderTemplateFile(std::string_view name, const TemplateVars& vars) {
  std::string path = TemplatePath(name);
  return RenderTemplate(ReadFile(path), vars, path);
}

std::vector<std::string> RenderArgsFile(std::string_view name, const TemplateVars& vars) {
  std::istringstream in(RenderTemplateFile(name, vars));
  std::vector<std::string> args;
  for (std::string line; std::getline(in, line);) {
    std::string arg = Trim(line);
    if (!arg.empty() && arg[0] != '#') args.push_back(std::move(arg));
  }
  return args;
}

std::string MakeTempDir(const std::string& parent) {
  std::string base = parent;
  if (base.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = base + "/caretaker-sandbox-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw Errno("cannot create a temp dir in", base);
  return pattern;
}

std::string RandomToken(size_t length) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device entropy;
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);
  std::string token;
  for (size_t i = 0; i < length; ++i) token += kAlphabet[pick(entropy)];
  return token;
}

}  // namespace caretaker::sandbox
