#include "proxy/native_socket.hpp"

#include <fcntl.h>
#include <sys/socket.h>

#include <array>
#include <chrono>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "client.hpp"
#include "proxy/io_errors.hpp"

namespace ipm::proxy::test {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// What the kernel and Asio (through its public API only) believe of a socket made here: both
// non-blocking, the descriptor close-on-exec, and synchronous calls still blocking for Asio
// (the user-visible non_blocking() mode untouched).
void expect_nonblocking_for_asio_and_kernel(tcp::socket& s) {
  ASSERT_TRUE(s.is_open());
  EXPECT_TRUE(s.native_non_blocking()) << "Asio knows the descriptor is non-blocking";
  EXPECT_FALSE(s.non_blocking()) << "synchronous operations keep blocking";
  EXPECT_NE(::fcntl(s.native_handle(), F_GETFL) & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(s.native_handle(), F_GETFD) & FD_CLOEXEC, 0);
}

class NativeSocketTest : public ::testing::Test {
 protected:
  NativeSocketTest() {
    acceptor_.open(tcp::v4());
    acceptor_.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    acceptor_.listen();
    acceptor_.non_blocking(true);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Accepts the connection a client just made (loopback: it is queued when connect returns).
  tcp::socket accept_one(tcp::endpoint& peer) {
    tcp::socket s(ctx_);
    boost::system::error_code ec;
    accept_nonblocking(acceptor_, s, peer, ec);
    EXPECT_FALSE(ec) << ec.message();
    return s;
  }

  // Runs the context until `done` or 5 s.
  template <class Done>
  bool run_until(Done done) {
    for (int i = 0; i < 500 && !done(); ++i) {
      ctx_.restart();  // a context that ran out of work stays stopped until restarted
      ctx_.run_for(10ms);
    }
    return done();
  }
  // Runs what is ready now (starts the operations just initiated).
  void poll() {
    ctx_.restart();
    ctx_.poll();
  }

  asio::io_context ctx_;
  tcp::acceptor acceptor_{ctx_};
};

TEST_F(NativeSocketTest, the_build_uses_the_path_it_was_configured_for) {
  RecordProperty("native_socket_path", std::string(native_socket_path()));
  EXPECT_EQ(native_socket_path(), IPM_ASIO_INTERNALS ? "asio-internals" : "public-api");
}

TEST_F(NativeSocketTest, an_accepted_socket_is_non_blocking_for_asio_and_the_kernel) {
  Fd client = connect_to(port());
  tcp::endpoint peer;
  tcp::socket s = accept_one(peer);
  expect_nonblocking_for_asio_and_kernel(s);
  EXPECT_EQ(peer.address().to_string(), "127.0.0.1");

  tcp::socket none(ctx_);
  boost::system::error_code ec;
  accept_nonblocking(acceptor_, none, peer, ec);
  EXPECT_EQ(ec, asio::error::would_block) << "nothing pending";
  EXPECT_FALSE(none.is_open());
}

TEST_F(NativeSocketTest, an_adopted_socket_is_non_blocking_for_asio_and_the_kernel) {
  boost::system::error_code ec;
  const int fd = open_nonblocking(tcp::v4(), ec);
  ASSERT_GE(fd, 0) << ec.message();
  const tcp::endpoint to(asio::ip::make_address("127.0.0.1"), port());
  ASSERT_TRUE(::connect(fd, to.data(), to.size()) == 0 || errno == EINPROGRESS);
  tcp::socket s(ctx_);
  adopt(s, tcp::v4(), fd, ec);
  ASSERT_FALSE(ec) << ec.message();
  expect_nonblocking_for_asio_and_kernel(s);
}

TEST_F(NativeSocketTest, reads_after_expect_no_data_wake_for_data_and_for_eof) {
  Fd client = connect_to(port());
  tcp::endpoint peer;
  tcp::socket s = accept_one(peer);
  std::array<char, 16> buf{};
  ASSERT_LT(::recv(s.native_handle(), buf.data(), buf.size(), 0), 0);  // EAGAIN: nothing yet
  expect_no_data(s);

  std::size_t got = 0;
  boost::system::error_code result;
  s.async_read_some(asio::buffer(buf), [&](boost::system::error_code ec, std::size_t n) {
    result = ec;
    got = n;
  });
  poll();
  ASSERT_TRUE(write_all(client, "x"));
  ASSERT_TRUE(run_until([&] { return got > 0 || result; })) << "data arriving later wakes it";
  EXPECT_EQ(std::string(buf.data(), got), "x");

  expect_no_data(s);
  bool done = false;
  s.async_read_some(asio::buffer(buf), [&](boost::system::error_code ec, std::size_t) {
    result = ec;
    done = true;
  });
  poll();
  shutdown_write(client);
  ASSERT_TRUE(run_until([&] { return done; })) << "an EOF arriving later wakes it";
  EXPECT_EQ(result, asio::error::eof);
}

}  // namespace
}  // namespace ipm::proxy::test
