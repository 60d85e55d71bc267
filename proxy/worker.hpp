#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>
#include <thread>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include "config/dispatch.hpp"
#include "pool/decision_log.hpp"
#include "proxy/accept_backoff.hpp"
#include "proxy/buffer_pool.hpp"
#include "proxy/client_filter.hpp"
#include "proxy/connection.hpp"
#include "proxy/dial_watch.hpp"
#include "proxy/dialer.hpp"
#include "proxy/metrics.hpp"
#include "proxy/pipe_pool.hpp"
#include "proxy/protocol/credentials.hpp"
#include "proxy/protocol/destination.hpp"
#include "proxy/relay.hpp"
#include "proxy/relay_watch.hpp"

namespace ipm::proxy {

class Worker;
class ClientAdmission;
class EgressConnector;
struct EgressConnection;
class FrontMetrics;

/// What the socks, http, mixed and redirect front ends need besides what the tcp one does.
struct FrontSupport {
  const EgressConnector& connector;
  FrontMetrics& metrics;
  config::Millis handshake_timeout;
};

/// What every worker shares: collaborators (all thread-safe) and the connection count that
/// enforces max_connections across workers.
struct WorkerShared {
  WorkerShared(const Dialer& d, EgressSource& s, ProxyMetrics& m, pool::DecisionLog& log,
               RelayLimits l, std::uint32_t max, std::size_t bytes, bool spl,
               std::function<void(std::string_view)> w)
      : dialer(d),
        source(s),
        metrics(m),
        decisions(log),
        limits(l),
        max_connections(max),
        buffer_bytes(bytes),
        splice(spl),
        warn(std::move(w)) {}

  const Dialer& dialer;
  EgressSource& source;
  ProxyMetrics& metrics;
  pool::DecisionLog& decisions;
  RelayLimits limits;
  std::uint32_t max_connections;
  std::size_t buffer_bytes;
  bool splice;  ///< bulk bursts go through pipes with splice(2)
  std::function<void(std::string_view)> warn;

  ClientFilter allow_clients;  ///< proxy_allow_clients; set before start

  std::atomic<std::uint32_t> active{0};
  std::vector<Worker*> workers;          ///< set before start; woken when a slot frees up
  const FrontSupport* front = nullptr;   ///< set when a socks/http/mixed/redirect front end listens
  ClientAdmission* admission = nullptr;  ///< per-client caps and counts; none in some tests
};

/// One thread, one io_context, one acceptor (SO_REUSEPORT when there are several workers):
/// accepts, dials and relays its own connections without locks. Public methods other than
/// listen() are thread-safe; everything else runs on the worker's thread.
class Worker {
 public:
  explicit Worker(WorkerShared& shared);
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;
  ~Worker();

  /// Binds and listens for the front end `spec` (its host and port are taken from
  /// `endpoint`); may be called once per front end. Throws boost::system::system_error
  /// (startup only).
  void listen(const boost::asio::ip::tcp::endpoint& endpoint, bool reuse_port,
              const config::Listener& spec = {config::FrontEnd::tcp, {}, 0, {}});
  /// The bound address of the `i`-th front end listened on.
  boost::asio::ip::tcp::endpoint local_endpoint(std::size_t i = 0) const {
    return acceptors_.at(i)->socket.local_endpoint();
  }

  /// Starts the thread. The thread ends once the acceptor is closed and every connection ended.
  void start();

  /// Closes the acceptor, lets connections finish for up to `drain`, then cuts them.
  /// A second call cuts them at once.
  void stop(config::Millis drain);

  void join();

  /// Resumes a paused accept loop (a connection slot or file descriptors may be free now).
  void wake();

 private:
  /// One listening socket and the front end it serves. Each accept loop pauses on its own
  /// timer: two loops re-arming one timer would cancel each other's wait.
  struct Acceptor {
    Acceptor(boost::asio::io_context& ctx, config::Listener s);
    boost::asio::ip::tcp::acceptor socket;
    boost::asio::steady_timer pause_timer;
    config::Listener spec;
    protocol::CredentialCheck check;  ///< empty when the front end has no users
  };

  boost::asio::awaitable<void> accept_loop(Acceptor& a);
  /// Paused at max_connections until a session ends.
  boost::asio::awaitable<void> wait_for_slot(Acceptor& a);
  /// accept(2) failed (out of descriptors...): waits `at_most`, or until a session ends.
  boost::asio::awaitable<void> wait_for_descriptors(Acceptor& a, config::Millis at_most);
  void warn_recovered(const AcceptBackoff::Episode& episode) const;
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket client,
                                       boost::asio::ip::tcp::endpoint peer,
                                       const Acceptor& acceptor);
  /// A socks/http/mixed client: handshake, destination checks, dial with failover through
  /// source/upstream egresses, the protocol's reply, then the relay (proxy/front_session.cpp).
  boost::asio::awaitable<void> front_session(boost::asio::ip::tcp::socket client,
                                             boost::asio::ip::tcp::endpoint peer,
                                             const Acceptor& acceptor);
  /// A redirect client: its original destination (conntrack), a loop refused, dial with
  /// failover through source/upstream egresses, then the relay (proxy/redirect_session.cpp).
  boost::asio::awaitable<void> redirect_session(boost::asio::ip::tcp::socket client,
                                                boost::asio::ip::tcp::endpoint peer,
                                                const Acceptor& acceptor);
  boost::asio::awaitable<void> drain_then_cut(config::Millis drain);
  /// Relays a connected Connection, with the egress counted open meanwhile; fills the bytes
  /// of `decision` and returns how the relay ended.
  boost::asio::awaitable<pool::ConnectionEnd> relay_and_count(Connection& c,
                                                              pool::Decision& decision);
  /// Counts the new connection `c` of `peer` against its client's cap; false when the client
  /// is at it (the caller refuses it in its protocol). True when no caps are kept.
  bool admit(Connection& c, const boost::asio::ip::tcp::endpoint& peer, config::FrontEnd front);
  /// A dispatch session's dial of `dest`: the client's cap, its sticky key, then the
  /// connector's failover; the record gets the egress, tries and dial time.
  boost::asio::awaitable<EgressConnection> dial(Connection& c,
                                                const boost::asio::ip::tcp::endpoint& peer,
                                                const Acceptor& acceptor, config::FrontEnd front,
                                                const protocol::Destination& dest,
                                                pool::Decision& decision);
  /// Ends the lease pick() took for a connected egress whose session ends before its relay.
  void release(const pool::Egress& egress);
  /// A FIN to a client that gets nothing (more), after discarding what it sent.
  void close_politely(Connection& c);
  void session_ended();
  /// A session counted active from its start to its very end: declared before the session's
  /// Connection, so that session_ended() runs after the Connection is gone.
  struct SessionTally {
    explicit SessionTally(Worker& w) : worker(w) { w.shared_.metrics.active.Increment(); }
    ~SessionTally() { worker.session_ended(); }
    SessionTally(const SessionTally&) = delete;
    SessionTally& operator=(const SessionTally&) = delete;
    Worker& worker;
  };
  /// Links a new session's connection into the worker's list (cut at once while the drain
  /// cuts every session).
  void enlist(Connection& c, std::chrono::steady_clock::time_point accepted);
  /// A session's last step, whatever its front end: the record gets its duration and end, the
  /// end is counted, and the record goes to the decision log.
  void record_end(pool::Decision decision, std::chrono::steady_clock::time_point accepted,
                  pool::ConnectionEnd end);
  void log_exception(std::string_view what, std::exception_ptr e) const;

  WorkerShared& shared_;
  // One thread runs the context and every socket operation happens on it: no lock per socket
  // operation. Other threads only post (wake(), stop()), which keeps the scheduler's lock.
  boost::asio::io_context ctx_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  std::vector<std::unique_ptr<Acceptor>> acceptors_;
  boost::asio::steady_timer drain_timer_{ctx_};
  DialWatch dial_watch_;
  DialWatch handshake_watch_;  ///< socks/http handshakes: a DialWatch with their own timeout
  ConnectionList connections_;
  RelayWatch relay_watch_;
  BufferPool burst_buffers_;
  BufferPool small_buffers_;
  BufferPool first_buffers_;  ///< for Connection::first_bytes, and to drain a refused client
  PipePool pipes_;
  RelayBuffers relay_buffers_;
  std::atomic<int> paused_{0};  ///< accept loops waiting on their pause timer
  bool draining_ = false;
  bool cutting_ = false;      ///< the drain timeout passed: sessions starting now are cut too
  std::size_t sessions_ = 0;  ///< accepted and not ended (some may not be linked yet)
  std::thread thread_;
};

}  // namespace ipm::proxy
