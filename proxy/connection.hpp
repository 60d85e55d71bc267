#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <boost/intrusive/list_hook.hpp>

#include "clients/client_address.hpp"
#include "clients/client_limits.hpp"
#include "pool/decision_log.hpp"
#include "proxy/buffer_pool.hpp"
#include "proxy/protocol/egress_host.hpp"

namespace ipm::proxy {

using ConnectionHook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;
using DialHook =
    boost::intrusive::list_member_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

/// The sockets, the timer and the dial deadline of one proxied client connection. It lives in the
/// frame of the session coroutine that owns it and is linked into its worker's list, so the worker
/// can cut it at the end of a drain. Not thread-safe: touched only from its worker's thread.
class Connection : public ConnectionHook {
 public:
  explicit Connection(boost::asio::ip::tcp::socket client_socket)
      : client(std::move(client_socket)),
        egress(client.get_executor()),
        timer(client.get_executor()) {}
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Ends the connection now for `why` (the first reason given wins): resets both sides so
  /// the peers see an aborted stream rather than a clean end, and wakes every operation the
  /// session awaits (they complete with operation_aborted).
  void abort(pool::ConnectionEnd why);

  /// The reason given to the first abort(), if any.
  std::optional<pool::ConnectionEnd> aborted() const { return aborted_; }

  boost::asio::ip::tcp::socket client;
  boost::asio::ip::tcp::socket egress;
  boost::asio::steady_timer timer;  ///< wakes the relay when its second direction ends

  // The client's first bytes, read before the dial (see read_first_bytes()). The dialer sends
  // them as soon as connect(2) returns, the relay sends whatever it could not.
  BufferPool::Lease first_bytes;
  std::size_t first_size = 0;  ///< bytes held in first_bytes
  std::size_t first_sent = 0;  ///< of those, already sent to the egress

  /// Reads what the client has sent so far (usually its whole request: it arrives with the
  /// handshake) into a buffer of `buffers`, without waiting. Returns false when the client
  /// socket failed (reset); an empty read or EOF leaves nothing held.
  bool read_first_bytes(BufferPool& buffers);
  /// What the client's first bytes say about its egress: the target host (X-Egress-Host,
  /// else Host) that selection uses for health per target site, and the X-Egress-Key of sticky
  /// sessions; empty when they name none.
  protocol::EgressHeaders egress_headers() const;

  // Relay progress, read by the worker's RelayWatch for the idle and lifetime limits.
  bool relaying = false;
  int directions_done = 0;  ///< directions that reached EOF (1: the closing phase)
  std::chrono::steady_clock::time_point accepted;
  std::chrono::steady_clock::time_point last_activity;

  // Per-client caps (proxy/client_admission.hpp): who the client is, and the leases that count
  // this connection, in all and through its egress, for as long as it lives.
  clients::ClientAddress client_address;
  clients::ClientLimits::Lease client_lease;
  clients::ClientLimits::Lease egress_lease;

  // Dial timeout, kept by the worker's DialWatch.
  DialHook dial_hook;
  std::chrono::steady_clock::time_point dial_deadline;
  bool dial_expired = false;

 private:
  std::optional<pool::ConnectionEnd> aborted_;
};

/// "a.b.c.d:port" or "[v6]:port", for connection records.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& e);

/// The record a session starts with: now, the client, its front end; the session adds the
/// rest as it goes.
pool::Decision session_decision(const boost::asio::ip::tcp::endpoint& peer, config::FrontEnd front);

/// A worker's connections, for the drain and the relay limits.
using ConnectionList =
    boost::intrusive::list<Connection, boost::intrusive::constant_time_size<false>>;

}  // namespace ipm::proxy
