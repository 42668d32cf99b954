// See http_client.h.
#include "src/run/http_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <variant>

namespace caretaker {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace asio::experimental::awaitable_operators;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// A reply larger than this is refused (10,000 series of Prometheus are ~2 MB).
constexpr uint64_t kBodyLimit = 64ull << 20;

std::string Seconds(Millis d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + "s";
  return std::to_string(d.count()) + "ms";
}

Awaitable<Result<HttpReply>> Exchange(asio::ip::tcp::socket& socket, const HttpRequest& request,
                                      const std::string& where) {
  auto ex = socket.get_executor();
  boost::system::error_code ec;
  auto address = asio::ip::make_address(request.host, ec);
  if (!ec) {
    auto [cec] = co_await socket.async_connect(asio::ip::tcp::endpoint(address, request.port), kTuple);
    ec = cec;
  } else {
    asio::ip::tcp::resolver resolver(ex);
    const std::string port = std::to_string(request.port);  // g++ 12: src/base/async.h
    auto [rec, endpoints] = co_await resolver.async_resolve(request.host, port, kTuple);
    ec = rec;
    if (!ec) {
      auto [cec, ep] = co_await asio::async_connect(socket, endpoints, kTuple);
      (void)ep;
      ec = cec;
    }
  }
  if (ec) co_return Error{"cannot connect to " + where + ": " + ec.message()};
  http::request<http::string_body> req;
  req.method_string(request.method);
  req.target(request.target);
  req.version(11);
  req.set(http::field::host, request.port == 80 ? request.host : where);
  req.set(http::field::user_agent, "caretaker");
  req.set(http::field::connection, "close");
  for (const auto& [name, value] : request.headers) req.set(name, value);
  if (!request.body.empty() || request.method == "POST") {
    req.body() = request.body;
    req.prepare_payload();
  }
  auto [wec, written] = co_await http::async_write(socket, req, kTuple);
  (void)written;
  if (wec) co_return Error{where + ": sending the request failed: " + wec.message()};
  boost::beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  auto [rec, read] = co_await http::async_read(socket, buffer, parser, kTuple);
  (void)read;
  if (rec == http::error::body_limit) {
    co_return Error{where + ": a reply body over " + std::to_string(kBodyLimit >> 20) + " MiB"};
  }
  if (rec) co_return Error{where + ": reading the reply failed: " + rec.message()};
  auto& res = parser.get();
  HttpReply reply;
  reply.status = static_cast<int>(res.result_int());
  reply.content_type = std::string(res[http::field::content_type]);
  reply.body = std::move(res.body());
  co_return reply;
}

}  // namespace

Awaitable<Result<HttpReply>> HttpCall(asio::io_context& io, const HttpRequest& request, Millis timeout) {
  const std::string where = request.host + ":" + std::to_string(request.port);
  asio::ip::tcp::socket socket(io);
  asio::steady_timer timer(io, timeout);
  // g++ 12: src/base/async.h (the race built into a named operand first).
  auto exchange_or_timeout = Exchange(socket, request, where) || timer.async_wait(kTuple);
  auto raced = co_await std::move(exchange_or_timeout);
  if (raced.index() == 1) co_return Error{"no reply from " + where + " within " + Seconds(timeout)};
  co_return std::move(std::get<0>(raced));
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                c == '_' || c == '~';
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string Base64(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= uint8_t(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace caretaker
