#include "proxy/connection.hpp"

#include <boost/asio/socket_base.hpp>

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

void Connection::abort(pool::ConnectionEnd why) {
  if (aborted_)
    return;
  aborted_ = why;
  reset_and_close(client);
  reset_and_close(egress);
  timer.cancel();
}

}  // namespace ipm::proxy
