#include "proxy/dialer.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "clients/sticky_key.hpp"
#include "pool/time.hpp"
#include "proxy/connect_by_hand.hpp"
#include "proxy/io_errors.hpp"
#include "proxy/native_socket.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::errc::errc_t;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Out of descriptors at the dial, the client waits (as it would in the accept backlog) and
// the dial is tried again: soon at first, then at most this far apart.
constexpr config::Millis kFirstLocalWait{5};
constexpr config::Millis kMaxLocalWait{200};

// On loopback and other fast paths the handshake is complete by the time connect(2) returns
// EINPROGRESS. Sending the client's first bytes right away then proves the connection: no
// wait for writability, no getsockopt(SO_ERROR), no trip through the event loop. A socket
// still connecting answers EAGAIN (and is then awaited as usual); a refused one, its error.
struct FirstSend {
  bool connected = false;           ///< the bytes went out
  boost::system::error_code error;  ///< the connect failed
};

FirstSend send_first_bytes(Connection& c) {
  FirstSend result;
  if (c.first_size == 0)
    return result;
  const ssize_t sent = ::send(c.egress.native_handle(), c.first_bytes.bytes().data(), c.first_size,
                              MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent > 0) {
    c.first_sent = static_cast<std::size_t>(sent);
    result.connected = true;
  } else if (sent < 0 && !try_again(errno)) {
    result.error = errno_code();
  }
  return result;
}

}  // namespace

DialFailure classify_dial_error(const boost::system::error_code& ec) {
  // Compared as conditions: Asio reports system_category codes.
  const auto is = [&ec](errc_t e) { return ec == e; };
  if (out_of_resources(ec) || is(errc_t::address_not_available))
    return DialFailure::local;  // out of descriptors, buffers, memory or local ports
  if (is(errc_t::connection_refused))
    return DialFailure::refused;
  if (is(errc_t::timed_out))
    return DialFailure::timeout;
  if (is(errc_t::host_unreachable) || is(errc_t::network_unreachable) || is(errc_t::network_down))
    return DialFailure::unreachable;
  return DialFailure::error;
}

pool::DialResult dial_result(DialFailure f) {
  switch (f) {
    case DialFailure::refused:
      return pool::DialResult::refused;
    case DialFailure::timeout:
      return pool::DialResult::timeout;
    case DialFailure::unreachable:
      return pool::DialResult::unreachable;
    case DialFailure::error:
    case DialFailure::local:
      break;
  }
  return pool::DialResult::other_error;
}

Dialer::Dialer(DialSettings settings, EgressSource& source, ProxyMetrics& metrics,
               ClientAdmission* admission)
    : settings_(settings), source_(source), metrics_(metrics), admission_(admission) {}

asio::awaitable<std::optional<pool::ConnectionEnd>> Dialer::connect(Connection& c, DialWatch& watch,
                                                                    pool::Decision& decision,
                                                                    config::Sticky sticky) const {
  if (c.aborted())
    co_return c.aborted();
  if (settings_.fix_port != 0) {
    decision.egress = pool::Egress{settings_.next.to_string(), settings_.fix_port, {}, 1};
    decision.tries = 1;
    const Attempt a = co_await dial_waiting_for_descriptors(c, watch, settings_.fix_port);
    if (c.aborted())
      co_return c.aborted();
    if (!a.error) {
      decision.dial_time = a.took;
      metrics_.dial_succeeded(std::chrono::duration<double>(a.took).count());
      co_return std::nullopt;
    }
    if (classify_dial_error(a.error) != DialFailure::local)
      metrics_.dial_failed(classify_dial_error(a.error));
    co_return pool::ConnectionEnd::dial_failed;
  }

  const protocol::EgressHeaders headers = c.egress_headers();
  const std::string key = clients::sticky_key(sticky, {.client = decision.client,
                                                       .username = {},
                                                       .egress_key = headers.key,
                                                       .destination = headers.target});
  std::vector<pool::Egress> tried;
  bool capped = false;  // an egress was skipped for the client's per-egress cap
  for (std::uint32_t attempt = 0; attempt <= settings_.retries; ++attempt) {
    if (c.aborted())
      co_return c.aborted();
    pool::Request request = pool::kNginxRequest;
    request.client = decision.client;  // per-client rules (source_ip_rules)
    request.target = headers.target;
    request.key = key;                   // sticky sessions
    clients::ClientLimits::Lease lease;  // held through the dial, then by the connection
    std::optional<pool::Egress> egress =
        admission_ ? admission_->pick(source_, c, request, tried, lease, capped)
                   : source_.pick(request, tried);
    if (!egress && attempt == 0 && capped) {
      admission_->refused_at_egress_cap(config::FrontEnd::tcp);
      co_return pool::ConnectionEnd::refused;
    }
    if (!egress)
      co_return attempt == 0 ? pool::ConnectionEnd::no_egress : pool::ConnectionEnd::dial_failed;
    decision.egress = *egress;
    decision.tries = attempt + 1;
    const Attempt a = co_await dial_waiting_for_descriptors(c, watch, egress->port);
    if (c.aborted()) {
      source_.abandoned(*egress);
      co_return c.aborted();
    }
    // Still short of descriptors or ports after a dial timeout of waiting: not the egress's
    // fault, and another egress would not fare better.
    if (a.error && classify_dial_error(a.error) == DialFailure::local) {
      source_.abandoned(*egress);
      break;
    }
    report(*egress, a);
    if (!a.error) {
      decision.dial_time = a.took;
      c.egress_lease = std::move(lease);
      co_return std::nullopt;
    }
    tried.push_back(std::move(*egress));
  }
  co_return pool::ConnectionEnd::dial_failed;
}

asio::awaitable<Dialer::Attempt> Dialer::dial_once(Connection& c, DialWatch& watch,
                                                   std::uint16_t port) const {
  Attempt a;
  boost::system::error_code ignored;
  c.egress.close(ignored);
  const tcp::endpoint endpoint(settings_.next, port);
  const int fd = open_nonblocking(endpoint.protocol(), a.error);
  if (fd < 0)
    co_return a;
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);

  const auto started = SteadyClock::now();
  if ((a.error = start_connect(fd, endpoint))) {
    ::close(fd);
    a.took = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started);
    co_return a;
  }
  // Registered with the reactor only now that it is connecting (see open_nonblocking()).
  adopt(c.egress, endpoint.protocol(), fd, a.error);
  if (a.error)
    co_return a;
  std::optional<boost::system::error_code> done;
  if (const FirstSend first = send_first_bytes(c); first.connected || first.error)
    done = first.error;
  else if (c.first_size == 0)  // with first bytes, their EAGAIN said it is still connecting
    done = connect_again(fd, endpoint);
  const bool waited = !done;
  if (done) {
    a.error = *done;
  } else {
    watch.watch(c, started);
    const boost::system::error_code ec = co_await wait_connected(c.egress);
    watch.unwatch(c);
    a.error = c.dial_expired ? boost::system::errc::make_error_code(errc_t::timed_out) : ec;
  }
  a.took = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started);
  if (a.error)
    c.egress.close(ignored);
  else if (!waited)
    expect_no_data(c.egress);  // registered since the reactor last waited
  co_return a;
}

asio::awaitable<Dialer::Attempt> Dialer::dial_waiting_for_descriptors(Connection& c,
                                                                      DialWatch& watch,
                                                                      std::uint16_t port) const {
  const auto deadline = SteadyClock::now() + settings_.timeout;
  config::Millis wait = kFirstLocalWait;
  for (;;) {
    Attempt a = co_await dial_once(c, watch, port);
    if (!a.error || c.aborted() || classify_dial_error(a.error) != DialFailure::local)
      co_return a;
    metrics_.dial_failed(DialFailure::local);
    const auto now = SteadyClock::now();
    if (now >= deadline)
      co_return a;
    // The connection's timer is free until the relay: abort() cancels the wait.
    c.timer.expires_after(std::min<SteadyClock::duration>(wait, deadline - now));
    co_await c.timer.async_wait(kAwait);
    if (c.aborted())
      co_return a;
    wait = std::min(wait * 2, kMaxLocalWait);
  }
}

void Dialer::report(const pool::Egress& egress, const Attempt& a) const {
  const DialFailure failure = classify_dial_error(a.error);
  pool::DialOutcome outcome;
  outcome.ip = egress.ip;
  outcome.port = egress.port;
  outcome.time = pool::Clock::now();
  outcome.result = a.error ? dial_result(failure) : pool::DialResult::ok;
  outcome.dial_time = a.took;
  source_.report(outcome);
  if (a.error)
    metrics_.dial_failed(failure);
  else
    metrics_.dial_succeeded(std::chrono::duration<double>(a.took).count());
}

}  // namespace ipm::proxy
