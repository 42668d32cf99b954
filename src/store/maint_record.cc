// Maintenance records in one TOML file; see maint_record.h.
//
// toml++ is otherwise confined to the config module: this file is the only
// other TOML caretaker reads, and the only TOML it writes.
#include "src/store/maint_record.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <functional>
#include <sstream>
#include <tuple>
#include <utility>

#include <toml++/toml.h>

#include "src/base/file_lock.h"

namespace caretaker {
namespace {

using namespace std::chrono;

constexpr std::array<std::string_view, 5> kPhases = {"draining", "maint", "steps", "gates", "enabling"};
constexpr std::array<std::string_view, 8> kKeys = {"pool",   "server", "host",  "who",
                                                   "reason", "since",  "until", "phase"};
constexpr std::string_view kHeader =
    "# Hosts taken out of traffic, by whom and why: caretaker's maintenance records.\n"
    "# Written by caretaker, which holds an flock of this file's name + \".lock\" while\n"
    "# it changes it; read them with `caretaker maint list`.\n\n";

// A file descriptor closed on destruction; closing a lock file's descriptor
// releases its flock.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Closes now and returns errno of close (0 on success): a write error can
  // surface only there on some file systems.
  int Close() { return ::close(std::exchange(fd_, -1)) == 0 ? 0 : errno; }

 private:
  int fd_;
};

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// "<what>: <strerror> — <what to do>", the hint chosen by errno.
Error SystemError(const std::string& what, int err, const std::string& dir) {
  std::string fix;
  switch (err) {
    case EACCES:
    case EPERM: fix = "caretaker's user must be able to read and write " + dir; break;
    case ENOSPC:
    case EDQUOT: fix = "free space on the file system of " + dir; break;
    case EROFS: fix = dir + " is on a read-only file system; choose another path"; break;
    case ENOTDIR: fix = "a part of " + dir + " is not a directory; choose another path"; break;
    default: fix = "check " + dir + " and retry"; break;
  }
  return Error{what + ": " + std::strerror(err) + " — " + fix};
}

// `text` in double quotes, escaped so that a message stays one line.
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
      out += c;
      continue;
    }
    char esc[8];
    std::snprintf(esc, sizeof esc, "\\x%02x", static_cast<unsigned char>(c));
    out += esc;
  }
  return out + "\"";
}

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF):
// what a TOML parser accepts, so what is written can be read back.
bool IsUtf8(std::string_view s) {
  static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    // n: how many continuation bytes follow the lead byte (4: not a lead byte).
    size_t n = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 4;
    if (n == 4 || n >= s.size() - i) return false;
    uint32_t cp = n == 0 ? c : c & (0x7F >> (n + 1));
    for (size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n + 1;
  }
  return true;
}

// What is wrong with a record, as {key, problem}, or nullopt. Put refuses
// such a record and reading refuses a file holding one.
std::optional<std::pair<std::string_view, std::string>> ProblemOf(const MaintRecord& r) {
  const std::array<std::pair<std::string_view, const std::string*>, 6> texts = {{
      {"pool", &r.pool}, {"server", &r.server}, {"host", &r.host},
      {"who", &r.who},   {"reason", &r.reason}, {"phase", &r.phase},
  }};
  for (const auto& [key, value] : texts) {
    if (!IsUtf8(*value)) return std::pair{key, std::string("must be valid UTF-8")};
  }
  if (r.pool.empty()) return std::pair{"pool", std::string("must not be empty")};
  if (r.server.empty()) return std::pair{"server", std::string("must not be empty")};
  if (r.reason.empty()) return std::pair{"reason", std::string("must not be empty")};
  if (std::find(kPhases.begin(), kPhases.end(), r.phase) == kPhases.end()) {
    return std::pair{"phase", "must be one of draining, maint, steps, gates, enabling, got " + Quoted(r.phase)};
  }
  return std::nullopt;
}

bool SameKey(const MaintRecord& r, std::string_view pool, std::string_view server) {
  return r.pool == pool && r.server == server;
}

bool Before(const MaintRecord& a, const MaintRecord& b) {
  return std::tie(a.pool, a.server) < std::tie(b.pool, b.server);
}

// "path:line:col: what". A node built by the parser always has a position;
// 1:1 is the fallback.
Error At(const std::string& file, const toml::source_region& where, std::string_view what) {
  return Error{file + ":" + std::to_string(where.begin.line ? where.begin.line : 1) + ":" +
               std::to_string(where.begin.column ? where.begin.column : 1) + ": " + std::string(what)};
}

// Reads one [[maintenance]] table, keeping the first error as
// "path:line:col: maintenance[i].key: what is wrong; what to do".
class RecordReader {
 public:
  RecordReader(const std::string& file, const toml::table& table, size_t index)
      : file_(file), table_(table), where_("maintenance[" + std::to_string(index) + "]") {}

  // At `node`, or at the table's header when null.
  void Fail(const toml::node* node, std::string_view key, std::string_view what) {
    Fail(node ? node->source() : table_.source(), key, what);
  }
  void Fail(const toml::source_region& where, std::string_view key, std::string_view what) {
    if (error_) return;
    std::string path = key.empty() ? where_ : where_ + "." + std::string(key);
    error_ = At(file_, where, path + ": " + std::string(what));
  }

  void CheckKeys() {
    for (const auto& [key, value] : table_) {
      if (std::find(kKeys.begin(), kKeys.end(), key.str()) != kKeys.end()) continue;
      Fail(key.source(), key.str(),
           "unknown key; remove it (a record has pool, server, host, who, reason, since, until, phase)");
    }
  }

  std::optional<std::string> Text(std::string_view key, bool required) {
    const toml::node* node = table_.get(key);
    if (!node) {
      if (required) Fail(nullptr, "", "missing key " + Quoted(key) + "; add it or remove the record");
      return std::nullopt;
    }
    if (const auto* s = node->as_string()) return s->get();
    Fail(node, key, "expected a string; quote the value");
    return std::nullopt;
  }

  std::optional<SysSeconds> Time(std::string_view key, bool required) {
    auto text = Text(key, required);
    if (!text) return std::nullopt;
    auto t = ParseUtc(*text);
    if (!t) Fail(table_.get(key), key, "expected a UTC time like \"2026-11-25T07:00:00Z\", got " + Quoted(*text));
    return t;
  }

  const std::optional<Error>& error() const { return error_; }

 private:
  const std::string& file_;
  const toml::table& table_;
  std::string where_;
  std::optional<Error> error_;
};

Result<MaintRecord> ReadRecord(const std::string& file, const toml::table& table, size_t index) {
  RecordReader t(file, table, index);
  t.CheckKeys();
  MaintRecord r;
  r.pool = t.Text("pool", true).value_or("");
  r.server = t.Text("server", true).value_or("");
  r.host = t.Text("host", true).value_or("");
  r.who = t.Text("who", true).value_or("");
  r.reason = t.Text("reason", true).value_or("");
  r.since = t.Time("since", true).value_or(SysSeconds{});
  r.until = t.Time("until", false);
  r.phase = t.Text("phase", true).value_or("");
  if (auto problem = ProblemOf(r); problem && !t.error()) {
    t.Fail(table.get(problem->first), problem->first, problem->second + "; fix the record");
  }
  if (t.error()) return *t.error();
  return r;
}

// The records of a parsed document, in file order.
Result<std::vector<MaintRecord>> ReadDocument(const toml::table& doc, const std::string& file) {
  for (const auto& [key, node] : doc) {
    if (key.str() == "maintenance") continue;
    return At(file, key.source(), "unknown key " + Quoted(key.str()) +
                                       "; this file holds only [[maintenance]] tables, remove it");
  }
  std::vector<MaintRecord> out;
  const toml::node* list = doc.get("maintenance");
  if (!list) return out;
  const toml::array* array = list->as_array();
  if (!array) return At(file, list->source(), "maintenance: expected [[maintenance]] tables");
  for (size_t i = 0; i < array->size(); ++i) {
    const toml::table* table = (*array)[i].as_table();
    if (!table) return At(file, (*array)[i].source(), "maintenance: expected [[maintenance]] tables");
    auto record = ReadRecord(file, *table, i);
    if (!record) return record.error();
    for (const MaintRecord& seen : out) {
      if (!SameKey(seen, record.value().pool, record.value().server)) continue;
      return At(file, table->source(), "maintenance[" + std::to_string(i) + "]: a second record of " +
                                           seen.pool + "/" + seen.server + "; remove one of them");
    }
    out.push_back(std::move(record).value());
  }
  return out;
}

Result<std::vector<MaintRecord>> ParseRecords(std::string_view text, const std::string& file) {
  toml::table doc;
  try {
    doc = toml::parse(text, std::string_view(file));
  } catch (const toml::parse_error& e) {
    return At(file, e.source(), std::string(e.description()) +
                                    " — fix the file by hand; caretaker does not overwrite records it cannot read");
  }
  auto records = ReadDocument(doc, file);
  if (records) std::sort(records.value().begin(), records.value().end(), Before);
  return records;
}

toml::table ToTable(const MaintRecord& r) {
  toml::table t;
  t.insert("pool", r.pool);
  t.insert("server", r.server);
  t.insert("host", r.host);
  t.insert("who", r.who);
  t.insert("reason", r.reason);
  t.insert("since", FormatUtc(r.since));
  if (r.until) t.insert("until", FormatUtc(*r.until));
  t.insert("phase", r.phase);
  return t;
}

std::string Serialize(const std::vector<MaintRecord>& records) {
  toml::array list;
  for (const MaintRecord& r : records) list.push_back(ToTable(r));
  toml::table doc;
  doc.insert("maintenance", std::move(list));
  std::ostringstream out;
  // One-line basic strings with escapes: multi-line strings would let a
  // parser normalize "\r\n" in a reason, and literal strings cannot hold
  // every character.
  out << kHeader << toml::toml_formatter(doc, toml::format_flags::allow_unicode_strings) << "\n";
  return out.str();
}

int ReadAll(int fd, std::string& out) {
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return 0;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    out.append(buf, static_cast<size_t>(n));
  }
}

int WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

class FileMaintRecords final : public MaintRecords {
 public:
  explicit FileMaintRecords(std::string path) : path_(std::move(path)), dir_(DirOf(path_)) {}

  Result<std::vector<MaintRecord>> List() const override;
  Result<std::optional<MaintRecord>> Find(std::string_view pool, std::string_view server) const override;
  Result<void> Put(const MaintRecord& record) override;
  Result<void> Remove(std::string_view pool, std::string_view server) override;

 private:
  // Modifies the records in `change`, which returns false when nothing changed.
  using Change = std::function<bool(std::vector<MaintRecord>&)>;

  Result<Fd> Lock(int operation, bool create_dir) const;
  Result<std::vector<MaintRecord>> ReadUnlocked() const;
  Result<void> WriteUnlocked(const std::vector<MaintRecord>& records) const;
  Result<void> Update(bool create_dir, const Change& change);

  std::string path_;
  std::string dir_;
};

// flock(operation) on "<path>.lock", held until the Fd is destroyed. The lock
// is a separate file because the records file is replaced by rename: a lock
// on it would hold the old inode. An invalid Fd means the directory does not
// exist (only when !create_dir), so neither does the records file.
Result<Fd> FileMaintRecords::Lock(int operation, bool create_dir) const {
  if (create_dir) {
    if (int err = MakePrivateDirs(dir_)) return SystemError("cannot create directory " + dir_, err, dir_);
  }
  std::string lock_path = path_ + ".lock";
  Fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid() && errno == ENOENT && !create_dir) return Fd();
  if (!fd.valid()) return SystemError("cannot open lock file " + lock_path, errno, dir_);
  while (::flock(fd.get(), operation) != 0) {
    if (errno != EINTR) return SystemError("cannot lock " + lock_path, errno, dir_);
  }
  return fd;
}

Result<std::vector<MaintRecord>> FileMaintRecords::ReadUnlocked() const {
  Fd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() && errno == ENOENT) return std::vector<MaintRecord>{};
  std::string text;
  int err = fd.valid() ? ReadAll(fd.get(), text) : errno;
  if (err != 0) return SystemError("cannot read maintenance records " + path_, err, dir_);
  return ParseRecords(text, path_);
}

// Temp file, fsync, rename, fsync of the directory: a crash leaves the old or
// the new file, and the new one is on disk when this returns success.
Result<void> FileMaintRecords::WriteUnlocked(const std::vector<MaintRecord>& records) const {
  const std::string what = "cannot write maintenance records " + path_;
  std::string tmp = path_ + ".tmp." + std::to_string(::getpid());
  Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd.valid()) return SystemError(what, errno, dir_);
  // A stale temp file of a crashed process with this pid keeps its mode.
  int err = ::fchmod(fd.get(), 0600) != 0 ? errno : WriteAll(fd.get(), Serialize(records));
  if (err == 0 && ::fsync(fd.get()) != 0) err = errno;
  if (int close_err = fd.Close(); err == 0) err = close_err;
  if (err == 0 && ::rename(tmp.c_str(), path_.c_str()) != 0) err = errno;
  if (err != 0) {
    ::unlink(tmp.c_str());
    return SystemError(what, err, dir_);
  }
  Fd dir(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir.valid() || ::fsync(dir.get()) != 0) return SystemError("cannot sync directory " + dir_, errno, dir_);
  return boost::outcome_v2::success();
}

Result<void> FileMaintRecords::Update(bool create_dir, const Change& change) {
  auto lock = Lock(LOCK_EX, create_dir);
  if (!lock) return lock.error();
  if (!lock.value().valid()) return boost::outcome_v2::success();  // no directory, nothing to change
  auto records = ReadUnlocked();
  if (!records) return records.error();
  if (!change(records.value())) return boost::outcome_v2::success();
  return WriteUnlocked(records.value());
}

Result<std::vector<MaintRecord>> FileMaintRecords::List() const {
  auto lock = Lock(LOCK_SH, false);
  if (!lock) return lock.error();
  if (!lock.value().valid()) return std::vector<MaintRecord>{};
  return ReadUnlocked();
}

Result<std::optional<MaintRecord>> FileMaintRecords::Find(std::string_view pool, std::string_view server) const {
  auto records = List();
  if (!records) return records.error();
  for (MaintRecord& r : records.value()) {
    if (SameKey(r, pool, server)) return std::optional<MaintRecord>(std::move(r));
  }
  return std::optional<MaintRecord>();
}

Result<void> FileMaintRecords::Put(const MaintRecord& record) {
  if (auto problem = ProblemOf(record)) {
    return Error{"cannot record maintenance of " + record.pool + "/" + record.server + " in " + path_ +
                 ": " + std::string(problem->first) + " " + problem->second};
  }
  return Update(true, [&](std::vector<MaintRecord>& records) {
    auto it = std::lower_bound(records.begin(), records.end(), record, Before);
    if (it != records.end() && SameKey(*it, record.pool, record.server)) *it = record;
    else records.insert(it, record);
    return true;
  });
}

Result<void> FileMaintRecords::Remove(std::string_view pool, std::string_view server) {
  return Update(false, [&](std::vector<MaintRecord>& records) {
    auto it = std::find_if(records.begin(), records.end(),
                           [&](const MaintRecord& r) { return SameKey(r, pool, server); });
    if (it == records.end()) return false;
    records.erase(it);
    return true;
  });
}

// Appends `value` as `width` decimal digits (zero-padded).
void AppendDigits(std::string& out, long value, size_t width) {
  std::string digits = std::to_string(value);
  if (digits.size() < width) out.append(width - digits.size(), '0');
  out += digits;
}

}  // namespace

std::optional<std::string> MaintRecordProblem(const MaintRecord& record) {
  auto problem = ProblemOf(record);
  if (!problem) return std::nullopt;
  return std::string(problem->first) + " " + problem->second;
}

std::unique_ptr<MaintRecords> OpenFileMaintRecords(std::string path) {
  return std::make_unique<FileMaintRecords>(std::move(path));
}

std::string FormatUtc(SysSeconds t) {
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<seconds> hms{t - day};
  std::string out;
  AppendDigits(out, static_cast<int>(ymd.year()), 4);
  out += '-';
  AppendDigits(out, static_cast<unsigned>(ymd.month()), 2);
  out += '-';
  AppendDigits(out, static_cast<unsigned>(ymd.day()), 2);
  out += 'T';
  AppendDigits(out, hms.hours().count(), 2);
  out += ':';
  AppendDigits(out, hms.minutes().count(), 2);
  out += ':';
  AppendDigits(out, hms.seconds().count(), 2);
  return out + 'Z';
}

std::optional<SysSeconds> ParseUtc(std::string_view text) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    bool ok = kShape[i] == 'd' ? text[i] >= '0' && text[i] <= '9' : text[i] == kShape[i];
    if (!ok) return std::nullopt;
  }
  auto number = [&](size_t pos, size_t n) {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  year_month_day ymd{year{number(0, 4)}, month{static_cast<unsigned>(number(5, 2))},
                     day{static_cast<unsigned>(number(8, 2))}};
  int h = number(11, 2), m = number(14, 2), s = number(17, 2);
  if (!ymd.ok() || h > 23 || m > 59 || s > 59) return std::nullopt;
  return sys_days{ymd} + hours{h} + minutes{m} + seconds{s};
}

std::string FormatUtc(WallTime t) { return FormatUtc(floor<seconds>(t)); }

std::string FormatUtcMillis(WallTime t) {
  const SysSeconds s = floor<seconds>(t);
  std::string out = FormatUtc(s);
  out.pop_back();  // the Z
  out += '.';
  AppendDigits(out, static_cast<int>((t - s).count()), 3);
  return out + 'Z';
}

SysSeconds NowSeconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

}  // namespace caretaker
