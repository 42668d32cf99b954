#include "haproxy/client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <variant>

#include "haproxy/concurrently.h"
#include "haproxy/reply.h"

namespace caretaker::haproxy {
namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using std::chrono::milliseconds;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kReadChunk = 64 * 1024;
// A reply past this is not HAProxy talking (10,000 servers of `show stat` are
// about 5 MiB): stop reading rather than grow without bound.
constexpr size_t kMaxReplyBytes = 64 * 1024 * 1024;

std::string FormatTimeout(milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

std::string ConnectHint(const boost::system::error_code& ec) {
  if (ec == asio::error::access_denied) return " — caretaker's user needs read and write access to the socket";
  if (ec == asio::error::connection_refused || ec == asio::error::not_found ||
      ec == boost::system::errc::no_such_file_or_directory) {
    return " — is HAProxy running, with a `stats socket ... level admin` there?";
  }
  return "";
}

// Writes `line` and reads until HAProxy closes the connection.
template <class Socket>
Task<Result<std::string>> WriteAndRead(Socket& socket, const std::string& line) {
  auto [wec, written] = co_await asio::async_write(socket, asio::buffer(line), kTuple);
  (void)written;
  if (wec) co_return Error{ErrorCode::kIo, "sending the command failed: " + wec.message()};
  std::string reply;
  std::vector<char> chunk(kReadChunk);
  for (;;) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kTuple);
    reply.append(chunk.data(), n);
    if (ec == asio::error::eof) break;
    if (reply.size() > kMaxReplyBytes) {
      co_return Error{ErrorCode::kIo, "the reply exceeds 64 MiB — is this socket really HAProxy's runtime API?"};
    }
    if (ec) co_return Error{ErrorCode::kIo, "reading the reply failed: " + ec.message()};
  }
  co_return reply;
}

template <class Socket, class Connect>
Task<Result<std::string>> Exchange(Socket& socket, Connect connect, const Instance& in,
                                   const std::string& line) {
  asio::steady_timer timer(socket.get_executor(), in.connect_timeout);
  auto connect_or_timeout = connect() || timer.async_wait(kTuple);
  auto connected = co_await std::move(connect_or_timeout);
  if (connected.index() == 1) {
    co_return Error{ErrorCode::kTimeout, "no connection within " + FormatTimeout(in.connect_timeout) +
                                             " — is the host reachable and HAProxy alive?"};
  }
  if (auto ec = std::get<0>(connected)) {
    co_return Error{ErrorCode::kConnect, "cannot connect: " + ec.message() + ConnectHint(ec)};
  }
  timer.expires_after(in.reply_timeout);
  auto reply_or_timeout = WriteAndRead(socket, line) || timer.async_wait(kTuple);
  auto replied = co_await std::move(reply_or_timeout);
  if (replied.index() == 1) {
    co_return Error{ErrorCode::kTimeout, "no reply within " + FormatTimeout(in.reply_timeout) +
                                             " — is the HAProxy process hung or overloaded? (a command already sent may "
                                             "still take effect when it wakes)"};
  }
  co_return std::move(std::get<0>(replied));
}

Task<Result<std::string>> ExchangeUnix(const Instance& in, const std::string& line) {
  auto ex = co_await asio::this_coro::executor;
  if (in.endpoint.path.size() > kMaxUnixPathBytes) {  // the endpoint would throw
    co_return Error{ErrorCode::kBadEndpoint, "the socket path is too long for a unix socket address"};
  }
  asio::local::stream_protocol::socket socket(ex);
  asio::local::stream_protocol::endpoint ep(in.endpoint.path);
  auto connect = [&]() -> Task<boost::system::error_code> {
    auto [ec] = co_await socket.async_connect(ep, kTuple);
    co_return ec;
  };
  co_return co_await Exchange(socket, connect, in, line);
}

Task<Result<std::string>> ExchangeTcp(const Instance& in, const std::string& line) {
  auto ex = co_await asio::this_coro::executor;
  asio::ip::tcp::socket socket(ex);
  asio::ip::tcp::resolver resolver(ex);
  const std::string port = std::to_string(in.endpoint.port);
  // An address needs no resolver. A host name is resolved as part of
  // connecting and shares the connect timeout (but Asio's resolver cannot be
  // interrupted: a hung DNS server delays the timeout error; prefer addresses).
  auto connect = [&]() -> Task<boost::system::error_code> {
    boost::system::error_code bad_address;
    auto address = asio::ip::make_address(in.endpoint.host, bad_address);
    if (!bad_address) {
      auto [ec] = co_await socket.async_connect(asio::ip::tcp::endpoint(address, in.endpoint.port), kTuple);
      co_return ec;
    }
    auto [rec, endpoints] = co_await resolver.async_resolve(in.endpoint.host, port, kTuple);
    if (rec) co_return rec;
    auto [ec, ep] = co_await asio::async_connect(socket, endpoints, kTuple);
    (void)ep;
    co_return ec;
  };
  co_return co_await Exchange(socket, connect, in, line);
}

}  // namespace

const char* AdminStateName(AdminState state) {
  switch (state) {
    case AdminState::kReady: return "ready";
    case AdminState::kDrain: return "drain";
    case AdminState::kMaint: return "maint";
  }
  return "?";
}

std::string Weight::ToString() const { return std::to_string(value) + (percent ? "%" : ""); }

bool IsValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Client::Client(Instance instance)
    : instance_(std::move(instance)), where_(instance_.name + " (" + instance_.endpoint.ToString() + ")") {}

Error Client::Prefixed(Error error) const {
  error.message = "haproxy " + where_ + ": " + error.message;
  return error;
}

Task<Result<std::string>> Client::Execute(std::string_view command) const {
  std::string line = std::string(command) + "\n";
  // No co_await inside ?: (g++ 12: src/base/async.h).
  std::optional<Result<std::string>> reply;
  if (instance_.endpoint.kind == Endpoint::Kind::kUnix) {
    reply.emplace(co_await ExchangeUnix(instance_, line));
  } else {
    reply.emplace(co_await ExchangeTcp(instance_, line));
  }
  if (!*reply) {
    Error e = reply->error();
    e.message.insert(0, "'" + std::string(command) + "': ");
    co_return Prefixed(std::move(e));
  }
  co_return std::move(*reply);
}

namespace {

// Sends a read command and parses its reply. A reply that does not start as
// the command's output does (`table_start`) is an error sentence from HAProxy.
template <class T>
Task<Result<T>> Query(const Client& client, const std::string& command, std::string_view table_start,
                      Result<T> (*parse)(std::string_view)) {
  auto reply = co_await client.Execute(command);
  if (!reply) co_return reply.error();
  if (!reply.value().starts_with(table_start)) {
    if (auto err = ClassifyReply(client.where(), command, reply.value())) co_return *err;
  }
  auto parsed = parse(reply.value());
  if (!parsed) co_return Error{parsed.error().code, "haproxy " + client.where() + ": " + parsed.error().message};
  co_return parsed;
}

}  // namespace

Task<Result<std::vector<ServerStat>>> Client::ShowStat() const {
  const std::string command = "show stat -1 4 -1";
  co_return co_await Query(*this, command, "#", &ParseShowStat);
}

Task<Result<std::vector<ServerStat>>> Client::ShowBackendStat(int backend_id, std::string_view backend) const {
  const std::string command = "show stat " + std::to_string(backend_id) + " 4 -1";
  auto rows = co_await Query(*this, command, "#", &ParseShowStat);
  if (rows) std::erase_if(rows.value(), [&](const ServerStat& s) { return s.backend != backend; });
  co_return rows;
}

Task<Result<std::vector<ServerState>>> Client::ShowServersState(std::string_view backend) const {
  if (!backend.empty() && !IsValidName(backend)) {
    co_return Prefixed(Error{ErrorCode::kRejected, "invalid backend name \"" + std::string(backend) + "\""});
  }
  std::string command = "show servers state";
  if (!backend.empty()) command += " " + std::string(backend);
  co_return co_await Query(*this, command, "1\n", &ParseServersState);
}

Task<Result<Info>> Client::ShowInfo() const {
  const std::string command = "show info";
  co_return co_await Query(*this, command, "Name:", &ParseShowInfo);
}

Task<std::vector<Result<Info>>> ShowInfoAll(const std::vector<const Client*>& clients) {
  // Wrapped: the parallel group needs a value type with a default.
  auto show = [](const Client& c) -> Task<std::optional<Result<Info>>> {
    auto op = c.ShowInfo();
    co_return co_await std::move(op);
  };
  auto all = detail::ForEachConcurrently(clients, show);
  std::vector<std::optional<Result<Info>>> infos = co_await std::move(all);
  std::vector<Result<Info>> out;
  for (auto& info : infos) out.push_back(std::move(*info));
  co_return out;
}

Task<Result<std::string>> Client::CliLevel() const {
  const std::string command = "show cli level";
  auto reply = co_await Execute(command);
  if (!reply) co_return reply.error();
  std::string level(Trim(reply.value(), " \t\r\n"));
  if (level == "admin" || level == "operator" || level == "user") co_return level;
  if (auto err = ClassifyReply(where(), command, reply.value())) co_return *err;
  co_return Prefixed(Error{ErrorCode::kParse, "unexpected reply to \"show cli level\": \"" +
                                                            level.substr(0, 80) + "\""});
}

Task<Status> Client::Change(std::string_view backend, std::string_view server, const std::string& command) const {
  for (std::string_view name : {backend, server}) {
    if (!IsValidName(name)) {
      co_return Prefixed(Error{ErrorCode::kRejected, "invalid name \"" + std::string(name) +
                                                         "\" (HAProxy names use A-Z a-z 0-9 _ . : -)"});
    }
  }
  auto reply = co_await Execute(command);
  if (!reply) co_return reply.error();
  if (auto err = ClassifyReply(where_, command, reply.value())) co_return *err;
  co_return Ok();
}

std::string SetStateCommand(std::string_view backend, std::string_view server, AdminState state) {
  return "set server " + std::string(backend) + "/" + std::string(server) + " state " + AdminStateName(state);
}

std::string SetWeightCommand(std::string_view backend, std::string_view server, Weight weight) {
  return "set server " + std::string(backend) + "/" + std::string(server) + " weight " + weight.ToString();
}

std::string ShutdownSessionsCommand(std::string_view backend, std::string_view server) {
  return "shutdown sessions server " + std::string(backend) + "/" + std::string(server);
}

Task<Status> Client::SetState(std::string_view backend, std::string_view server, AdminState state) const {
  const std::string command = SetStateCommand(backend, server, state);
  co_return co_await Change(backend, server, command);
}

Task<Status> Client::SetWeight(std::string_view backend, std::string_view server, Weight weight) const {
  const std::string command = SetWeightCommand(backend, server, weight);
  co_return co_await Change(backend, server, command);
}

Task<Status> Client::ShutdownSessions(std::string_view backend, std::string_view server) const {
  const std::string command = ShutdownSessionsCommand(backend, server);
  co_return co_await Change(backend, server, command);
}

}  // namespace caretaker::haproxy
