#include "proxy/worker.hpp"

#include <pthread.h>
#include <sys/socket.h>

#include <array>
#include <charconv>
#include <csignal>
#include <exception>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "clients/weighted_choice.hpp"
#include "pool/time.hpp"
#include "proxy/client_admission.hpp"
#include "proxy/io_errors.hpp"
#include "proxy/native_socket.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// Health per target: how long a connection whose first bytes had not arrived at accept waits
// for them before its dial, while selection has per-site rules (or its front end keys sticky
// sessions by them). An HTTP client writes its
// request right after connect(), so on a busy machine the bytes are microseconds behind the
// accept; without them the request's site is unknown and it may be sent through an IP that
// site blocks. A client that waits for the server to speak first loses at most this once.
constexpr std::chrono::milliseconds kTargetWait{100};

asio::awaitable<void> wait_readable(tcp::socket& socket, std::chrono::milliseconds bound) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, bound);
  co_await (socket.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable)) ||
            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
}

// Paused at the cap, the loop is woken by the connection that frees a slot; this is only a
// safety net against a lost wake-up.
constexpr config::Millis kCapRecheck{1000};
constexpr std::size_t kFreeBuffersKept = 64;
// Small relay buffers: two per relaying connection, so more of them are kept for reuse.
constexpr std::size_t kSmallBuffer = 2048;
constexpr std::size_t kFreeSmallBuffersKept = 1024;
// Idle pipes kept for splice(2): two descriptors each, so only a few.
constexpr std::size_t kFreePipesKept = 8;
constexpr int kAcceptBatch = 16;
// Holds a client's first bytes during the dial only: a request, a TLS ClientHello.
constexpr std::size_t kFirstBytesBuffer = 4096;

// SO_REUSEPORT as an Asio socket option (Asio names none outside its detail namespace).
class ReusePort {
 public:
  explicit ReusePort(bool on) : value_(on ? 1 : 0) {}
  int level(const tcp&) const { return SOL_SOCKET; }
  int name(const tcp&) const { return SO_REUSEPORT; }
  const int* data(const tcp&) const { return &value_; }
  std::size_t size(const tcp&) const { return sizeof value_; }

 private:
  int value_;
};

}  // namespace

Worker::Acceptor::Acceptor(asio::io_context& ctx, config::Listener s)
    : socket(ctx), pause_timer(ctx), spec(std::move(s)) {
  if (!spec.users.empty()) {
    // With sticky: username, "alice-session-abc123" authenticates as alice (its session part
    // keys the egress).
    check = [users = spec.users, sessions = spec.sticky == config::Sticky::username](
                std::string_view name, std::string_view password) {
      const std::string_view user = sessions ? clients::split_session(name).user : name;
      for (const auto& u : users) {
        if (u.name == user && u.password == password)
          return true;
      }
      return false;
    };
  }
}

Worker::Worker(WorkerShared& shared)
    : shared_(shared),
      dial_watch_(ctx_.get_executor(), shared.dialer.timeout()),
      handshake_watch_(ctx_.get_executor(),
                       shared.front ? shared.front->handshake_timeout : config::Millis{10000}),
      relay_watch_(ctx_.get_executor(), shared.limits, connections_),
      burst_buffers_(shared.buffer_bytes, kFreeBuffersKept),
      small_buffers_(kSmallBuffer, kFreeSmallBuffersKept),
      first_buffers_(kFirstBytesBuffer, kFreeBuffersKept),
      pipes_(kFreePipesKept),
      relay_buffers_{burst_buffers_, small_buffers_, shared.splice ? &pipes_ : nullptr} {}

Worker::~Worker() {
  join();
}

void Worker::listen(const tcp::endpoint& endpoint, bool reuse_port, const config::Listener& spec) {
  auto a = std::make_unique<Acceptor>(ctx_, spec);
  tcp::acceptor& acceptor = a->socket;
  acceptor.open(endpoint.protocol());
  acceptor.set_option(tcp::acceptor::reuse_address(true));
  if (reuse_port)
    acceptor.set_option(ReusePort(true));
  acceptor.bind(endpoint);
  // Accepted sockets inherit TCP_NODELAY from the listener: no setsockopt per client.
  acceptor.set_option(tcp::no_delay(true));
  acceptor.listen(tcp::acceptor::max_listen_connections);
  acceptor.non_blocking(true);  // accept4() is called directly, until EAGAIN
  acceptors_.push_back(std::move(a));
}

void Worker::start() {
  for (auto& a : acceptors_) {
    asio::co_spawn(ctx_, accept_loop(*a),
                   [this](std::exception_ptr e) { log_exception("accept loop", e); });
  }
  thread_ = std::thread([this] {
    // splice(2) has no MSG_NOSIGNAL: a peer gone mid-burst would raise SIGPIPE, whose default
    // action ends the process. Blocked on this thread, it leaves splice() failing with EPIPE.
    sigset_t pipe_signal;
    sigemptyset(&pipe_signal);
    sigaddset(&pipe_signal, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
    // run() returns when there is no work left: acceptor closed and every session ended.
    for (;;) {
      try {
        ctx_.run();
        return;
      } catch (const std::exception& e) {
        if (shared_.warn)
          shared_.warn(std::string("proxy: worker handler threw: ") + e.what());
      }
    }
  });
}

void Worker::join() {
  if (thread_.joinable())
    thread_.join();
}

void Worker::stop(config::Millis drain) {
  asio::post(ctx_, [this, drain] {
    if (draining_) {
      drain_timer_.cancel();  // second stop: cut now
      return;
    }
    draining_ = true;
    boost::system::error_code ignored;
    for (auto& a : acceptors_) {
      a->socket.close(ignored);
      a->pause_timer.cancel();
    }
    dial_watch_.stop();
    handshake_watch_.stop();
    relay_watch_.stop();
    if (sessions_ > 0)
      asio::co_spawn(ctx_, drain_then_cut(drain),
                     [this](std::exception_ptr e) { log_exception("drain", e); });
  });
}

void Worker::wake() {
  if (paused_.load() > 0) {
    asio::post(ctx_, [this] {
      for (auto& a : acceptors_)
        a->pause_timer.cancel();
    });
  }
}

asio::awaitable<void> Worker::accept_loop(Acceptor& a) {
  tcp::acceptor& acceptor = a.socket;
  AcceptBackoff backoff;
  int accepted_in_a_row = 0;
  while (acceptor.is_open()) {
    if (shared_.active.load() >= shared_.max_connections) {
      shared_.metrics.accept_paused();
      co_await wait_for_slot(a);
      continue;
    }
    tcp::endpoint peer;
    tcp::socket socket(ctx_);
    boost::system::error_code ec;
    accept_nonblocking(acceptor, socket, peer, ec);
    if (ec == asio::error::would_block) {
      // Every waiting client is in: an episode of failures, if one ran, is over.
      if (const auto episode = backoff.drained(SteadyClock::now()))
        warn_recovered(*episode);
      // Edge-triggered readiness: wait only once the backlog is empty.
      accepted_in_a_row = 0;
      co_await acceptor.async_wait(tcp::acceptor::wait_read, kAwait);
      continue;
    }
    if (ec) {
      if (!acceptor.is_open())
        break;
      shared_.metrics.accept_failed(out_of_resources(ec));
      // A client that gave up before accept() is its own business.
      if (ec == boost::system::errc::connection_aborted)
        continue;
      // Anything else (out of descriptors above all) would fail again at once: the client
      // stays in the backlog and the loop waits, while this worker's sessions run and free
      // descriptors (each one that ends wakes the loop early).
      const config::Millis wait = backoff.failed(SteadyClock::now());
      if (shared_.warn && backoff.episode_started())
        shared_.warn("proxy: accept failed: " + ec.message() +
                     "; waiting clients stay queued, retried as connections end (at least every " +
                     config::format_duration(AcceptBackoff::kCap) + ")");
      co_await wait_for_descriptors(a, wait);
      continue;
    }
    if (!shared_.allow_clients.allows(peer.address())) {
      shared_.metrics.client_refused();
      continue;  // the socket closes here: a FIN, nothing relayed
    }
    shared_.active.fetch_add(1);
    ++sessions_;
    if (a.spec.type == config::FrontEnd::tcp) {
      asio::co_spawn(ctx_, session(std::move(socket), peer, a),
                     [this](std::exception_ptr e) { log_exception("session", e); });
    } else if (a.spec.type == config::FrontEnd::redirect) {
      asio::co_spawn(ctx_, redirect_session(std::move(socket), peer, a),
                     [this](std::exception_ptr e) { log_exception("session", e); });
    } else {
      asio::co_spawn(ctx_, front_session(std::move(socket), peer, a),
                     [this](std::exception_ptr e) { log_exception("session", e); });
    }
    // A full backlog is accepted in batches; the sessions started so far run in between.
    if (++accepted_in_a_row == kAcceptBatch) {
      accepted_in_a_row = 0;
      co_await asio::post(ctx_, asio::use_awaitable);
    }
  }
}

asio::awaitable<void> Worker::wait_for_slot(Acceptor& a) {
  paused_.fetch_add(1);
  // Re-check after publishing `paused_`: a slot freed before this point is seen here, one
  // freed after it wakes the timer (see session_ended()).
  if (shared_.active.load() >= shared_.max_connections) {
    a.pause_timer.expires_after(kCapRecheck);
    co_await a.pause_timer.async_wait(kAwait);
  }
  paused_.fetch_sub(1);
}

asio::awaitable<void> Worker::wait_for_descriptors(Acceptor& a, config::Millis at_most) {
  // Always a real wait: the sessions of this worker, which free descriptors, run meanwhile.
  paused_.fetch_add(1);
  a.pause_timer.expires_after(at_most);
  co_await a.pause_timer.async_wait(kAwait);
  paused_.fetch_sub(1);
}

void Worker::warn_recovered(const AcceptBackoff::Episode& episode) const {
  if (!shared_.warn)
    return;
  const auto lasted = std::chrono::duration_cast<config::Millis>(episode.lasted);
  shared_.warn("proxy: accepting again after " + std::to_string(episode.failures) +
               " failed accepts over " + config::format_duration(lasted));
}

asio::awaitable<void> Worker::session(tcp::socket client, tcp::endpoint peer,
                                      const Acceptor& acceptor) {
  const auto accepted = SteadyClock::now();
  pool::Decision decision = session_decision(peer, config::FrontEnd::tcp);

  const SessionTally tally(*this);
  Connection c(std::move(client));
  enlist(c, accepted);
  std::optional<pool::ConnectionEnd> end;
  if (!c.aborted() && !admit(c, peer, config::FrontEnd::tcp))
    end = pool::ConnectionEnd::refused;  // at its cap: a plain FIN, as for no egress
  if (!end && !c.aborted() && !c.read_first_bytes(first_buffers_))
    c.abort(pool::ConnectionEnd::client_reset);  // gone before the dial: no IP is tried
  // Sticky by X-Egress-Key or the named host reads the first bytes too: without them the
  // request would lose its key, and its egress.
  const bool keyed_by_first_bytes = acceptor.spec.sticky == config::Sticky::key ||
                                    acceptor.spec.sticky == config::Sticky::destination;
  if (!end && !c.aborted() && c.first_size == 0 &&
      (keyed_by_first_bytes || shared_.source.wants_target())) {
    co_await wait_readable(c.client, kTargetWait);
    if (!c.aborted() && !c.read_first_bytes(first_buffers_))
      c.abort(pool::ConnectionEnd::client_reset);
  }

  if (!end)
    end = co_await shared_.dialer.connect(c, dial_watch_, decision, acceptor.spec.sticky);
  if (!end) {
    end = co_await relay_and_count(c, decision);
  } else if (!c.aborted()) {
    // No egress: a plain FIN and no invented bytes.
    close_politely(c);
  }
  record_end(std::move(decision), accepted, *end);
}

asio::awaitable<pool::ConnectionEnd> Worker::relay_and_count(Connection& c,
                                                             pool::Decision& decision) {
  shared_.source.opened(decision.egress);
  c.relaying = true;
  relay_watch_.started();
  struct RelayEnd {  // also when the relay throws
    RelayWatch& watch;
    Connection& c;
    EgressSource& source;
    const pool::Egress& egress;
    ~RelayEnd() {
      c.relaying = false;
      watch.ended();
      source.closed(egress);
    }
  };
  RelayTotals totals;
  {
    RelayEnd relay_end{relay_watch_, c, shared_.source, decision.egress};
    totals = co_await relay(c, relay_buffers_, shared_.metrics);
  }
  decision.bytes_up = totals.bytes_up;
  decision.bytes_down = totals.bytes_down;
  co_return totals.end;
}

bool Worker::admit(Connection& c, const tcp::endpoint& peer, config::FrontEnd front) {
  if (shared_.admission == nullptr)
    return true;
  c.client_address = client_address_of(peer);
  return shared_.admission->admit(c, front);
}

void Worker::close_politely(Connection& c) {
  // The client's unread bytes are discarded first so the kernel does not turn the close into
  // a RST (which could destroy a reply still in flight).
  boost::system::error_code ignored;
  c.client.shutdown(tcp::socket::shutdown_send, ignored);
  c.client.non_blocking(true, ignored);
  // A pooled buffer, not one in this frame: a large frame misses the allocator's fast path.
  const BufferPool::Lease sink = first_buffers_.take();
  while (c.client.read_some(asio::buffer(sink.bytes().data(), sink.bytes().size()), ignored) > 0) {
  }
}

void Worker::record_end(pool::Decision decision, SteadyClock::time_point accepted,
                        pool::ConnectionEnd end) {
  decision.duration =
      std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - accepted);
  decision.end = end;
  shared_.metrics.connection_ended(end);
  shared_.decisions.record(std::move(decision));
}

void Worker::enlist(Connection& c, std::chrono::steady_clock::time_point accepted) {
  c.accepted = accepted;
  connections_.push_back(c);
  if (cutting_)
    c.abort(pool::ConnectionEnd::shutdown);
}

void Worker::session_ended() {
  shared_.metrics.active.Decrement();
  shared_.active.fetch_sub(1);
  // Freed a slot at the cap, or fds that a backed-off accept loop may be waiting for.
  for (Worker* w : shared_.workers)
    w->wake();
  if (--sessions_ == 0 && draining_)
    drain_timer_.cancel();
}

asio::awaitable<void> Worker::drain_then_cut(config::Millis drain) {
  drain_timer_.expires_after(drain);
  co_await drain_timer_.async_wait(kAwait);  // cancelled early when the last one ends
  cutting_ = true;
  for (Connection& c : connections_)
    c.abort(pool::ConnectionEnd::shutdown);
}

void Worker::log_exception(std::string_view what, std::exception_ptr e) const {
  if (!e || !shared_.warn)
    return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    shared_.warn(std::string("proxy: ") + std::string(what) + " failed: " + ex.what());
  } catch (...) {
    shared_.warn(std::string("proxy: ") + std::string(what) + " failed");
  }
}

}  // namespace ipm::proxy
