#include "loopback_backend.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <exception>
#include <iostream>
#include <stdexcept>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace ipm::proxy::test {
namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
using asio::ip::tcp;

namespace {
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

void report_exception(std::exception_ptr e) {
  if (!e)
    return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    std::cerr << "LoopbackBackend: " << ex.what() << std::endl;
  }
}
}  // namespace

struct BackendSession {
  static asio::awaitable<void> run(LoopbackBackend& b, tcp::socket s) {
    ++b.active_;
    BackendRecord r;
    std::array<char, 65536> buf{};
    if (b.mode_ == BackendMode::sink) {
      asio::steady_timer t(s.get_executor());
      for (int i = 0; i < 2000 && !b.gate_open_; ++i) {  // bounded: 20 s
        t.expires_after(std::chrono::milliseconds(10));
        co_await t.async_wait(kAwait);
      }
    }
    if (b.mode_ == BackendMode::exchange) {
      co_await (write_then_close(b, s) && read_all(b, s, r, buf));
    } else {
      co_await read_all(b, s, r, buf);
    }
    boost::system::error_code ignored;
    s.close(ignored);
    b.record(std::move(r));
    --b.active_;
  }

  static asio::awaitable<void> write_then_close(LoopbackBackend& b, tcp::socket& s) {
    co_await asio::async_write(s, asio::buffer(b.payload_), kAwait);
    boost::system::error_code ignored;
    s.shutdown(tcp::socket::shutdown_send, ignored);
  }

  static asio::awaitable<void> read_all(LoopbackBackend& b, tcp::socket& s, BackendRecord& r,
                                        std::array<char, 65536>& buf) {
    for (;;) {
      std::size_t want = buf.size();
      if (b.mode_ == BackendMode::reset_after)
        want = std::min<std::uint64_t>(want, b.reset_after_bytes_ - r.bytes_received);
      auto [ec, n] = co_await s.async_read_some(asio::buffer(buf.data(), want), kAwait);
      if (ec == asio::error::eof) {
        r.clean_eof = true;
        if (b.mode_ == BackendMode::echo) {
          boost::system::error_code ignored;
          s.shutdown(tcp::socket::shutdown_send, ignored);
        }
        co_return;
      }
      if (ec)
        co_return;
      r.bytes_received += n;
      if (b.mode_ == BackendMode::exchange)
        r.received.append(buf.data(), n);
      if (b.mode_ == BackendMode::echo) {
        auto [wec, w] = co_await asio::async_write(s, asio::buffer(buf.data(), n), kAwait);
        if (wec)
          co_return;
      }
      if (b.mode_ == BackendMode::reset_after && r.bytes_received >= b.reset_after_bytes_) {
        boost::system::error_code ignored;
        s.set_option(asio::socket_base::linger(true, 0), ignored);
        s.close(ignored);
        co_return;
      }
    }
  }
};

LoopbackBackend::LoopbackBackend(BackendMode mode, std::string payload,
                                 std::uint64_t reset_after_bytes)
    : mode_(mode), payload_(std::move(payload)), reset_after_bytes_(reset_after_bytes) {
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(ep.protocol());
  acceptor_.bind(ep);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  asio::co_spawn(
      ctx_,
      [this]() -> asio::awaitable<void> {
        for (;;) {
          auto [ec, s] = co_await acceptor_.async_accept(kAwait);
          if (ec == asio::error::operation_aborted || !acceptor_.is_open())
            co_return;
          if (ec) {  // e.g. EMFILE while a test exhausts descriptors: retry shortly
            asio::steady_timer t(ctx_, std::chrono::milliseconds(10));
            co_await t.async_wait(kAwait);
            continue;
          }
          ++accepted_;
          asio::co_spawn(ctx_, BackendSession::run(*this, std::move(s)), report_exception);
        }
      },
      report_exception);
  thread_ = std::thread([this] { ctx_.run(); });
}

LoopbackBackend::~LoopbackBackend() {
  ctx_.stop();
  thread_.join();
}

void LoopbackBackend::record(BackendRecord r) {
  std::lock_guard lock(mutex_);
  records_.push_back(std::move(r));
}

std::vector<BackendRecord> LoopbackBackend::wait_for_records(std::size_t n) const {
  for (int i = 0; i < 1000; ++i) {
    {
      std::lock_guard lock(mutex_);
      if (records_.size() >= n)
        return records_;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::lock_guard lock(mutex_);
  return records_;
}

RefusingPort::RefusingPort() {
  socket_.open(tcp::v4());
  socket_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  port_ = socket_.local_endpoint().port();
}

BlackHole::BlackHole() {
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (listener_ < 0 || ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      ::listen(listener_, 0) != 0 ||
      ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    throw std::runtime_error("BlackHole: cannot listen");
  port_ = ntohs(addr.sin_port);
  // Fill the accept queue until a connect no longer completes: from then on SYNs are dropped.
  for (int i = 0; i < 16; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    fillers_.push_back(fd);
    ::connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 200) == 0)
      return;
  }
  throw std::runtime_error("BlackHole: the accept queue never filled");
}

BlackHole::~BlackHole() {
  for (int fd : fillers_)
    ::close(fd);
  ::close(listener_);
}

}  // namespace ipm::proxy::test
