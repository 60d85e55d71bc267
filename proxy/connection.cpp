#include "proxy/connection.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <charconv>

#include <boost/asio/socket_base.hpp>

#include "proxy/native_socket.hpp"
#include "proxy/protocol/egress_host.hpp"

namespace ipm::proxy {
namespace {

void reset_and_close(boost::asio::ip::tcp::socket& s) {
  if (!s.is_open())
    return;
  boost::system::error_code ignored;
  // Linger 0 turns close() into a RST: the peer learns the stream was cut, not finished.
  s.set_option(boost::asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

}  // namespace

bool Connection::read_first_bytes(BufferPool& buffers) {
  BufferPool::Lease lease = buffers.take();
  const std::span<std::byte> space = lease.bytes();
  ssize_t got;
  do {
    got = ::recv(client.native_handle(), space.data(), space.size(), 0);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return false;
    expect_no_data(client);  // the relay's first read then waits without a recv(2) first
    return true;
  }
  if (got > 0) {
    first_bytes = std::move(lease);
    first_size = static_cast<std::size_t>(got);
    first_sent = 0;
  }
  return true;
}

protocol::EgressHeaders Connection::egress_headers() const {
  if (first_size == 0)
    return {};
  return protocol::egress_headers_in_first_bytes(
      std::string_view(reinterpret_cast<const char*>(first_bytes.bytes().data()), first_size));
}

pool::Decision session_decision(const boost::asio::ip::tcp::endpoint& peer,
                                config::FrontEnd front) {
  pool::Decision decision;
  decision.time = pool::Clock::now();
  decision.client = endpoint_text(peer);
  decision.front_end = front;
  return decision;
}

// "a.b.c.d:port" for the connection's record, without inet_ntop's sprintf and the string
// concatenations: it is built for every connection.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e) {
  if (!e.address().is_v4())
    return "[" + e.address().to_string() + "]:" + std::to_string(e.port());
  std::array<char, 24> text{};  // "255.255.255.255:65535"
  char* out = text.data();
  char* const end = text.data() + text.size();
  for (const unsigned char byte : e.address().to_v4().to_bytes()) {
    out = std::to_chars(out, end, byte).ptr;
    *out++ = '.';
  }
  out[-1] = ':';
  out = std::to_chars(out, end, e.port()).ptr;
  return std::string(text.data(), out);
}

void Connection::abort(pool::ConnectionEnd why) {
  if (aborted_)
    return;
  aborted_ = why;
  reset_and_close(client);
  reset_and_close(egress);
  timer.cancel();
}

}  // namespace ipm::proxy
