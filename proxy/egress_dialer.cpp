#include "proxy/egress_dialer.hpp"

#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/connect_by_hand.hpp"
#include "proxy/dialer.hpp"
#include "proxy/io_errors.hpp"
#include "proxy/native_socket.hpp"
#include "proxy/protocol/upstream_client.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::errc::errc_t;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::size_t kMaxUpstreamAnswer = 17 * 1024;  // the HTTP client's head limit and some

std::chrono::microseconds since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start);
}

std::unique_ptr<protocol::UpstreamClient> client_for(const pool::Egress& e,
                                                     const protocol::Destination& to) {
  std::optional<protocol::Credentials> credentials;
  if (!e.username.empty() || !e.password.empty())
    credentials = protocol::Credentials{e.username, e.password, true};
  switch (e.protocol) {
    case pool::UpstreamProtocol::socks4:
      return std::make_unique<protocol::Socks4Client>(to, e.username);
    case pool::UpstreamProtocol::http:
      return std::make_unique<protocol::HttpConnectClient>(to, credentials);
    case pool::UpstreamProtocol::socks5:
      break;
  }
  return std::make_unique<protocol::Socks5Client>(to, credentials);
}

}  // namespace

bool reaches(const pool::Egress& e, const asio::ip::address& a) {
  return e.family == config::Family::any ||
         (a.is_v4() ? config::Family::ipv4 : config::Family::ipv6) == e.family;
}

pool::DialResult dial_result(const boost::system::error_code& ec, bool expired) {
  return expired ? pool::DialResult::timeout : dial_result(classify_dial_error(ec));
}

protocol::Destination to_destination(const tcp::endpoint& endpoint) {
  if (endpoint.address().is_v4()) {
    const auto b = endpoint.address().to_v4().to_bytes();
    return protocol::Destination::ipv4({b[0], b[1], b[2], b[3]}, endpoint.port());
  }
  const auto b = endpoint.address().to_v6().to_bytes();
  std::array<std::uint8_t, 16> ip{};
  std::copy(b.begin(), b.end(), ip.begin());
  return protocol::Destination::ipv6(ip, endpoint.port());
}

asio::awaitable<EgressAttempt> dial_source(tcp::socket& socket, const pool::Egress& egress,
                                           const tcp::endpoint& to, const bool& expired) {
  EgressAttempt a;
  const auto started = SteadyClock::now();
  boost::system::error_code ec;
  socket.close(ec);
  boost::system::error_code local_ec;
  const auto local = asio::ip::make_address(egress.ip, local_ec);
  if (local_ec || local.is_v4() != to.address().is_v4()) {
    a.result = pool::DialResult::bind_failed;
    a.error = boost::system::errc::make_error_code(errc_t::address_family_not_supported);
    co_return a;
  }
  // Non-blocking from birth and connected by hand, as the tcp front end's dialer does: Asio's
  // open() and async_connect would add an ioctl(FIONBIO) and a poll(2) to every session.
  const int fd = open_nonblocking(to.protocol(), ec);
  if (fd < 0) {
    a.result = pool::DialResult::other_error;
    a.error = ec;
    a.local = out_of_resources(ec);
    co_return a;
  }
  const auto fail = [&](pool::DialResult result, boost::system::error_code error) {
    ::close(fd);
    a.result = result;
    a.error = error;
    a.took = since(started);
  };
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (!egress.interface.empty() &&
      ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, egress.interface.c_str(),
                   static_cast<socklen_t>(egress.interface.size())) != 0) {
    fail(pool::DialResult::bind_failed, errno_code());
    co_return a;
  }
  // The port is picked at connect(2), per destination: binding does not use up ports.
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
  const tcp::endpoint from(local, 0);
  if (::bind(fd, from.data(), from.size()) != 0) {
    fail(pool::DialResult::bind_failed, errno_code());
    co_return a;
  }
  if (const auto connect_ec = start_connect(fd, to)) {
    fail(dial_result(connect_ec, false), connect_ec);
    a.local = out_of_resources(connect_ec);
    co_return a;
  }
  // Registered with the reactor only now that it is connecting (see open_nonblocking()).
  adopt(socket, to.protocol(), fd, ec);
  if (ec) {
    a.result = pool::DialResult::other_error;
    a.error = ec;
    a.local = out_of_resources(ec);
    a.took = since(started);
    co_return a;
  }
  // A connect over loopback (or to a near host) is often done by now.
  const std::optional<boost::system::error_code> done = connect_again(fd, to);
  const bool waited = !done;
  const boost::system::error_code connect_ec = done ? *done : co_await wait_connected(socket);
  a.took = since(started);
  if (connect_ec || expired) {
    a.result = dial_result(connect_ec, expired);
    a.error = connect_ec;
    a.local = !expired && out_of_resources(connect_ec);
    socket.close(ec);
    co_return a;
  }
  if (!waited)
    expect_no_data(socket);  // registered since the reactor last waited
  a.bound = to_destination(socket.local_endpoint(ec));
  co_return a;
}

asio::awaitable<EgressAttempt> dial_upstream(tcp::socket& socket, const pool::Egress& egress,
                                             const tcp::endpoint& upstream,
                                             const protocol::Destination& to, const bool& expired) {
  EgressAttempt a;
  const auto started = SteadyClock::now();
  boost::system::error_code ec;
  socket.close(ec);
  socket.open(upstream.protocol(), ec);
  if (!ec) {
    const int on = 1;
    ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    auto [connect_ec] = co_await socket.async_connect(upstream, kAwait);
    ec = connect_ec;
  }
  if (ec || expired) {
    a.result = dial_result(ec, expired);
    a.error = ec;
    a.local = !expired && out_of_resources(ec);
    a.took = since(started);
    socket.close(ec);
    co_return a;
  }

  const auto client = client_for(egress, to);
  std::vector<std::byte> answer;
  std::size_t pending = 0;  // bytes of `answer` not consumed by the codec yet
  std::vector<std::byte> chunk(1024);
  bool send = true;  // output() holds a message not written yet
  for (;;) {
    if (send) {
      send = false;
      auto [write_ec, n] = co_await asio::async_write(
          socket, asio::buffer(client->output().data(), client->output().size()), kAwait);
      if (write_ec || expired) {
        a.result = expired ? pool::DialResult::timeout : pool::DialResult::upstream_error;
        a.error = write_ec;
        break;
      }
    }
    // Feed what is pending first: an answer may hold two messages (method + reply).
    protocol::Step step{0, protocol::Status::need_more};
    if (pending > 0) {
      step = client->put(std::span(answer).last(pending));
      pending -= step.consumed;
    }
    if (step.status == protocol::Status::need_more) {
      auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kAwait);
      if (read_ec || expired) {
        a.result = expired ? pool::DialResult::timeout : pool::DialResult::upstream_error;
        a.error = read_ec;
        break;
      }
      answer.erase(answer.begin(), answer.end() - static_cast<std::ptrdiff_t>(pending));
      answer.insert(answer.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
      pending = answer.size();
      if (answer.size() > kMaxUpstreamAnswer) {
        a.result = pool::DialResult::upstream_error;
        break;
      }
      continue;
    }
    if (step.status == protocol::Status::reply) {
      send = true;
      continue;
    }
    if (step.status == protocol::Status::done) {
      a.bound = client->bound();
      a.early.assign(answer.end() - static_cast<std::ptrdiff_t>(pending), answer.end());
      break;
    }
    a.upstream_code = client->reply_code();
    a.result = client->failure() == protocol::Failure::refused ? pool::DialResult::upstream_refused
                                                               : pool::DialResult::upstream_error;
    break;
  }
  a.took = since(started);
  if (!a.ok())
    socket.close(ec);
  co_return a;
}

}  // namespace ipm::proxy
