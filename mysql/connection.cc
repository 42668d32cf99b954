#include "mysql/connection.h"

#include <errmsg.h>
#include <mysql.h>

#include <mutex>

namespace caretaker::mysql {
namespace {

// mysql_library_init is not thread-safe; mysql_init calls it implicitly, so
// the first handle of the process is created after this ran once.
void InitLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { mysql_library_init(0, nullptr, nullptr); });
}

Error OptionError(const Target& target, const char* option) {
  return Error{
      ErrorCode::kBadOption, 0,
      "MySQL " + Where(target) + ": Connector/C refused option " + option + " — is libmariadb built with TLS support?"};
}

unsigned int Seconds(std::chrono::seconds s) { return s.count() < 0 ? 0u : static_cast<unsigned int>(s.count()); }

}  // namespace

std::string Where(const Target& target) {
  // An IPv6 address is bracketed so that the port stays readable.
  if (target.host.find(':') != std::string::npos) return "[" + target.host + "]:" + std::to_string(target.port);
  return target.host + ":" + std::to_string(target.port);
}

std::optional<size_t> Rows::Find(std::initializer_list<std::string_view> names) const {
  for (std::string_view name : names) {
    for (size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] == name) return i;
    }
  }
  return std::nullopt;
}

void HandleCloser::operator()(st_mysql* m) const { mysql_close(m); }

Result<Handle> NewHandle(const Target& target) {
  InitLibraryOnce();
  Handle h(mysql_init(nullptr));
  if (!h) return Error{ErrorCode::kConnect, 0, "MySQL " + Where(target) + ": out of memory creating a handle"};
  const unsigned int protocol = MYSQL_PROTOCOL_TCP;
  const unsigned int connect = Seconds(target.connect_timeout);
  const unsigned int read = Seconds(target.read_timeout);
  const unsigned int write = Seconds(target.write_timeout);
  if (mysql_optionsv(h.get(), MYSQL_OPT_PROTOCOL, &protocol)) return OptionError(target, "MYSQL_OPT_PROTOCOL");
  if (mysql_optionsv(h.get(), MYSQL_OPT_CONNECT_TIMEOUT, &connect)) return OptionError(target, "CONNECT_TIMEOUT");
  if (mysql_optionsv(h.get(), MYSQL_OPT_READ_TIMEOUT, &read)) return OptionError(target, "READ_TIMEOUT");
  if (mysql_optionsv(h.get(), MYSQL_OPT_WRITE_TIMEOUT, &write)) return OptionError(target, "WRITE_TIMEOUT");
  if (target.tls.enabled) {
    // MYSQL_OPT_SSL_ENFORCE only asks for TLS (use_ssl): it checks no
    // certificate. MYSQL_OPT_SSL_VERIFY_SERVER_CERT is what verifies the server.
    const my_bool yes = 1;
    const my_bool verify = target.tls.verify_server_cert ? 1 : 0;
    if (mysql_optionsv(h.get(), MYSQL_OPT_SSL_ENFORCE, &yes)) return OptionError(target, "MYSQL_OPT_SSL_ENFORCE");
    if (mysql_optionsv(h.get(), MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify)) {
      return OptionError(target, "MYSQL_OPT_SSL_VERIFY_SERVER_CERT");
    }
    if (!target.tls.ca_file.empty() && mysql_optionsv(h.get(), MYSQL_OPT_SSL_CA, target.tls.ca_file.c_str())) {
      return OptionError(target, "MYSQL_OPT_SSL_CA");
    }
  }
  return h;
}

Result<Connection> Connection::Open(const Target& target) {
  auto handle = NewHandle(target);
  if (!handle) return handle.error();
  Handle h = std::move(handle).value();
  if (!mysql_real_connect(h.get(), target.host.c_str(), target.user.c_str(), target.password.c_str(), nullptr,
                          target.port, nullptr, 0)) {
    return ClassifyClientError(Where(target), target.user, "connecting as " + target.user, mysql_errno(h.get()),
                               mysql_error(h.get()));
  }
  return Connection(std::move(h), target);
}

Connection::Connection(Handle mysql, const Target& target)
    : mysql_(std::move(mysql)), where_(Where(target)), user_(target.user), read_timeout_(target.read_timeout) {}

Error Connection::LastError(std::string_view doing, std::chrono::steady_clock::time_point started) const {
  const unsigned int errno_ = mysql_errno(mysql_.get());
  const auto waited = std::chrono::steady_clock::now() - started;
  if (errno_ == CR_SERVER_LOST && read_timeout_.count() > 0 && waited >= read_timeout_) {
    return ReadTimedOut(where_, doing, errno_, read_timeout_);
  }
  return ClassifyClientError(where_, user_, doing, errno_, mysql_error(mysql_.get()));
}

Result<Rows> Connection::Query(std::string_view sql) {
  const std::string doing = "running " + std::string(sql);
  const auto started = std::chrono::steady_clock::now();
  if (mysql_real_query(mysql_.get(), sql.data(), sql.size())) return LastError(doing, started);
  std::unique_ptr<MYSQL_RES, void (*)(MYSQL_RES*)> res(mysql_store_result(mysql_.get()), mysql_free_result);
  Rows rows;
  if (!res) {
    if (mysql_field_count(mysql_.get()) != 0) return LastError(doing, started);
    return rows;  // a statement without a result set
  }
  const unsigned int n = mysql_num_fields(res.get());
  MYSQL_FIELD* fields = mysql_fetch_fields(res.get());
  for (unsigned int i = 0; i < n; ++i) rows.columns.emplace_back(fields[i].name, fields[i].name_length);
  while (MYSQL_ROW row = mysql_fetch_row(res.get())) {
    const unsigned long* lengths = mysql_fetch_lengths(res.get());
    auto& cells = rows.rows.emplace_back();
    for (unsigned int i = 0; i < n; ++i) {
      if (row[i] == nullptr) {
        cells.emplace_back(std::nullopt);
      } else {
        cells.emplace_back(std::string(row[i], lengths[i]));
      }
    }
  }
  return rows;
}

}  // namespace caretaker::mysql
