// See http_server.h.
#include "src/serve/http_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <atomic>
#include <cctype>
#include <set>

#include "src/base/log.h"

namespace caretaker {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kReadDeadline{30};   // a request, once its first byte came; and idle keep-alive
constexpr std::chrono::seconds kWriteDeadline{30};  // a reply (or an event) to a client that does not read
constexpr std::chrono::milliseconds kPollEvery{250};
constexpr uint64_t kBodyLimit = 1u << 20;
constexpr uint32_t kHeaderLimit = 16u << 10;
constexpr size_t kMaxConnections = 256;
constexpr std::chrono::seconds kHandshakeDeadline{10};

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// The TCP layer of a stream, plain or TLS, for deadlines and closing.
beast::tcp_stream& Tcp(beast::tcp_stream& s) { return s; }
beast::tcp_stream& Tcp(TlsStream& s) { return s.next_layer(); }

const std::string kEmpty;

bool SaneRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

std::string NewRequestId() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t start = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count());
  char buf[48];
  std::snprintf(buf, sizeof buf, "%012llx-%06llx", static_cast<unsigned long long>(start & 0xffffffffffffull),
                static_cast<unsigned long long>(++counter));
  return buf;
}

std::map<std::string, std::string> ParseQuery(std::string_view q) {
  std::map<std::string, std::string> out;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name = PercentDecode(pair.substr(0, eq), true);
    std::string value = eq == std::string_view::npos ? "" : PercentDecode(pair.substr(eq + 1), true);
    out.insert_or_assign(std::move(name), std::move(value));
  }
  return out;
}

}  // namespace

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '+' && plus_is_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < text.size() + 0 && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

const std::string& HttpExchange::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? kEmpty : it->second;
}

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(asio::io_context& io, HttpHandler h) : io(io), acceptor(io), handler(std::move(h)) {}

  asio::awaitable<void> Accept();
  // A TLS connection: its handshake, then served.
  asio::awaitable<void> Handshake(std::shared_ptr<beast::tcp_stream> tcp, std::shared_ptr<asio::ssl::context> tls);
  template <class S>
  asio::awaitable<void> Serve(S& stream, std::shared_ptr<beast::tcp_stream> tcp);
  template <class S>
  asio::awaitable<void> Stream(S& stream, HttpAnswer answer, const std::string& request_id);

  asio::io_context& io;
  asio::ip::tcp::acceptor acceptor;
  HttpHandler handler;
  std::shared_ptr<asio::ssl::context> tls;  // null: plain HTTP
  std::set<std::shared_ptr<beast::tcp_stream>> open;
  bool stopped = false;
};

asio::awaitable<void> HttpServer::Impl::Accept() {
  auto self = shared_from_this();
  while (!stopped) {
    auto [ec, socket] = co_await acceptor.async_accept(kTuple);
    if (stopped) break;
    if (ec) {
      // EMFILE and the like: say so, wait a little, go on.
      LogEvent(LogLevel::kWarn, "api.accept_failed", {{"error", ec.message()}});
      asio::steady_timer pause(io, std::chrono::milliseconds(100));
      auto [pec] = co_await pause.async_wait(kTuple);
      (void)pec;
      continue;
    }
    if (open.size() >= kMaxConnections) {
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    auto stream = std::make_shared<beast::tcp_stream>(std::move(socket));
    open.insert(stream);
    if (tls) {
      auto shaken = Handshake(stream, tls);  // g++ 12: src/base/async.h
      asio::co_spawn(io, std::move(shaken), asio::detached);
    } else {
      auto served = Serve(*stream, stream);
      asio::co_spawn(io, std::move(served), asio::detached);
    }
  }
}

asio::awaitable<void> HttpServer::Impl::Handshake(std::shared_ptr<beast::tcp_stream> tcp,
                                                  std::shared_ptr<asio::ssl::context> context) {
  auto self = shared_from_this();
  // The TLS stream takes the socket over; `open` holds a non-owning handle
  // of its TCP layer from here (the stream lives in this frame).
  TlsStream stream(std::move(*tcp), *context);
  open.erase(tcp);
  beast::tcp_stream* layer = &stream.next_layer();
  std::shared_ptr<beast::tcp_stream> handle(layer, [](beast::tcp_stream*) {});
  open.insert(handle);
  layer->expires_after(kHandshakeDeadline);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (ec || stopped) {
    if (ec) LogEvent(LogLevel::kDebug, "api.tls_handshake_failed", {{"error", ec.message()}});
    boost::system::error_code ignored;
    layer->socket().close(ignored);
    open.erase(handle);
    co_return;
  }
  auto served = Serve(stream, handle);
  co_await std::move(served);
}

template <class S>
asio::awaitable<void> HttpServer::Impl::Serve(S& stream_ref, std::shared_ptr<beast::tcp_stream> tcp) {
  auto self = shared_from_this();
  S* stream = &stream_ref;
  boost::system::error_code ec;
  std::string remote = Tcp(*stream).socket().remote_endpoint(ec).address().to_string();
  beast::flat_buffer buffer;
  while (!stopped) {
    http::request_parser<http::string_body> parser;
    parser.body_limit(kBodyLimit);
    parser.header_limit(kHeaderLimit);
    Tcp(*stream).expires_after(kReadDeadline);
    auto [rec, read] = co_await http::async_read(*stream, buffer, parser, kTuple);
    (void)read;
    if (rec) {
      if (rec == http::error::body_limit || rec == http::error::header_limit) {
        http::response<http::string_body> res{http::status::payload_too_large, 11};
        res.set(http::field::content_type, "text/plain");
        res.set(http::field::connection, "close");
        res.body() = "request too large\n";
        res.prepare_payload();
        Tcp(*stream).expires_after(kWriteDeadline);
        auto [wec, n] = co_await http::async_write(*stream, res, kTuple);
        (void)wec, (void)n;
      }
      break;  // closed, timed out, or garbage: nothing more on this connection
    }
    http::request<http::string_body> req = parser.release();
    HttpExchange x;
    x.method = std::string(req.method_string());
    x.target = std::string(req.target());
    std::string_view target = x.target;
    size_t q = target.find('?');
    x.path = PercentDecode(target.substr(0, q), false);
    if (q != std::string_view::npos) x.query = ParseQuery(target.substr(q + 1));
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      x.headers.insert_or_assign(std::move(name), std::string(field.value()));
    }
    x.body = std::move(req.body());
    x.remote = remote;
    const std::string& asked = x.Header("x-request-id");
    x.request_id = SaneRequestId(asked) ? asked : NewRequestId();
    HttpAnswer answer;
    try {
      answer = handler(x);
    } catch (const std::exception& e) {
      LogEvent(LogLevel::kError, "api.internal_error", {{"path", x.path}, {"what", e.what()}, {"request_id", x.request_id}});
      answer.status = 500;
      answer.content_type = "application/problem+json";
      answer.body = R"({"type":"about:blank","title":"Internal Server Error","status":500,"detail":"an internal error; the log says more"})";
    }
    if (answer.events) {
      auto streamed = Stream(*stream, std::move(answer), x.request_id);  // g++ 12: src/base/async.h
      co_await std::move(streamed);
      break;
    }
    http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
    res.set(http::field::content_type, answer.content_type);
    res.set(http::field::cache_control, "no-store");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("X-Request-Id", x.request_id);
    for (const auto& [name, value] : answer.headers) res.set(name, value);
    res.keep_alive(req.keep_alive());
    res.body() = std::move(answer.body);
    res.prepare_payload();
    Tcp(*stream).expires_after(kWriteDeadline);
    auto [wec, n] = co_await http::async_write(*stream, res, kTuple);
    (void)n;
    if (wec || !res.keep_alive()) break;
  }
  if constexpr (std::is_same_v<S, TlsStream>) {
    if (!stopped && Tcp(*stream).socket().is_open()) {
      Tcp(*stream).expires_after(std::chrono::seconds(5));
      auto [sec] = co_await stream->async_shutdown(kTuple);
      (void)sec;
    }
  }
  Tcp(*stream).socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  Tcp(*stream).close();
  open.erase(tcp);
}

template <class S>
asio::awaitable<void> HttpServer::Impl::Stream(S& stream, HttpAnswer answer, const std::string& request_id) {
  auto self = shared_from_this();
  // A close-delimited body: no length, no chunking (what EventSource and
  // fetch() readers take as it comes).
  std::string head = "HTTP/1.1 " + std::to_string(answer.status) +
                     " OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-store\r\n"
                     "X-Content-Type-Options: nosniff\r\nConnection: close\r\nX-Accel-Buffering: no\r\n"
                     "X-Request-Id: " + request_id + "\r\n";
  for (const auto& [name, value] : answer.headers) head += name + ": " + value + "\r\n";
  std::string out = head + "\r\n" + answer.body;
  asio::steady_timer timer(io);
  while (!stopped) {
    if (!out.empty()) {
      Tcp(stream).expires_after(kWriteDeadline);
      auto [wec, n] = co_await asio::async_write(stream, asio::buffer(out), kTuple);
      (void)n;
      if (wec) co_return;
      out.clear();
    }
    timer.expires_after(kPollEvery);
    auto [tec] = co_await timer.async_wait(kTuple);
    (void)tec;
    if (stopped) co_return;
    if (!answer.events->Poll(out)) {
      if (!out.empty()) {
        Tcp(stream).expires_after(kWriteDeadline);
        auto [wec, n] = co_await asio::async_write(stream, asio::buffer(out), kTuple);
        (void)wec, (void)n;
      }
      co_return;
    }
  }
}

HttpServer::HttpServer(asio::io_context& io, HttpHandler handler)
    : impl_(std::make_shared<Impl>(io, std::move(handler))) {}

HttpServer::~HttpServer() { Stop(); }

Result<void> HttpServer::UseTls(const std::string& cert_file, const std::string& key_pem, const std::string& key_file) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  boost::system::error_code ec;
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                           asio::ssl::context::single_dh_use,
                       ec);
  if (context->use_certificate_chain_file(cert_file, ec); ec) {
    return Error{"the API's tls_cert " + cert_file + " cannot be used: " + ec.message()};
  }
  if (context->use_private_key(asio::buffer(key_pem), asio::ssl::context::pem, ec); ec) {
    return Error{"the API's tls_key " + key_file + " cannot be used: " + ec.message()};
  }
  if (::SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return Error{"the API's tls_key " + key_file + " is not the key of the certificate in " + cert_file};
  }
  impl_->tls = std::move(context);
  return boost::outcome_v2::success();
}

Result<void> HttpServer::Listen(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Error{"the API's listen address " + host + " is not an IP address"};
  asio::ip::tcp::endpoint at(address, port);
  const std::string where = host + ":" + std::to_string(port);
  auto& a = impl_->acceptor;
  if (a.open(at.protocol(), ec); ec) return Error{"cannot open a socket for the API on " + where + ": " + ec.message()};
  a.set_option(asio::socket_base::reuse_address(true), ec);
  if (a.bind(at, ec); ec) return Error{"cannot listen on " + where + " for the API: " + ec.message()};
  if (a.listen(asio::socket_base::max_listen_connections, ec); ec) {
    return Error{"cannot listen on " + where + " for the API: " + ec.message()};
  }
  auto accepting = impl_->Accept();  // g++ 12: src/base/async.h
  asio::co_spawn(impl_->io, std::move(accepting), asio::detached);
  return boost::outcome_v2::success();
}

uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::Stop() {
  if (impl_->stopped) return;
  impl_->stopped = true;
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
  for (const auto& s : impl_->open) s->socket().close(ec);
}

}  // namespace caretaker
