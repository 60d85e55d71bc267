#include "app/egress_checker.hpp"

#include <algorithm>
#include <memory>
#include <string>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "app/log.hpp"
#include "proxy/egress_dialer.hpp"
#include "proxy/resolver.hpp"

namespace ipm::app {
namespace asio = boost::asio;
using asio::ip::tcp;
using pool::DialResult;

namespace {

constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxStatusLine = 4096;

// "HTTP/1.1 204 No Content" -> 204; 0 when it is not a status line.
int status_of(std::string_view line) {
  if (!line.starts_with("HTTP/1.") || line.size() < 12 || line[8] != ' ')
    return 0;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9')
      return 0;
    status = status * 10 + (line[i] - '0');
  }
  return status;
}

}  // namespace

std::vector<CheckTarget> check_targets(const config::Config& config,
                                       std::span<const pool::Egress> built) {
  std::vector<CheckTarget> out;
  for (std::size_t i = 0; i < config.egresses.size() && i < built.size(); ++i) {
    if (const auto& spec = config.egresses[i]; spec.check)
      out.push_back({built[i], *spec.check, spec.check_interval});
  }
  return out;
}

EgressChecker::EgressChecker(asio::any_io_executor executor, std::vector<CheckTarget> targets,
                             proxy::Resolver& resolver, config::Millis timeout, Report report,
                             pool::TimePoint start)
    : executor_(std::move(executor)),
      targets_(std::make_shared<const std::vector<CheckTarget>>(std::move(targets))),
      resolver_(resolver),
      timeout_(timeout),
      report_(std::move(report)),
      schedule_(schedule_of(*targets_, start)),
      timer_(executor_) {}

CheckSchedule EgressChecker::schedule_of(const std::vector<CheckTarget>& targets,
                                         pool::TimePoint start) {
  std::vector<config::Millis> intervals;
  for (const auto& t : targets)
    intervals.push_back(t.interval);
  return CheckSchedule(std::move(intervals), start);
}

asio::awaitable<pool::DialOutcome> EgressChecker::check(const CheckTarget& t, pool::TimePoint now) {
  pool::DialOutcome out;
  out.ip = t.egress.ip;
  out.port = t.egress.port;
  out.time = now;
  out.kind = t.egress.kind;
  out.protocol = t.egress.protocol;
  out.check = true;
  out.result = DialResult::unreachable;

  // Shared with the deadline's handler, which may run after this frame is gone.
  auto state = std::make_shared<CheckState>(executor_);
  running_.push_back(state);
  tcp::socket& socket = state->socket;
  asio::steady_timer deadline(executor_);
  deadline.expires_after(timeout_);
  deadline.async_wait([state](const boost::system::error_code& ec) {
    if (!ec && !state->finished)
      state->expire();
  });
  struct Finish {
    CheckState& s;
    asio::steady_timer& t;
    ~Finish() {
      s.finished = true;
      t.cancel();
    }
  } finish{*state, deadline};
  const bool& expired = state->expired;

  const auto destination = protocol::Destination::from_host(t.check.host, t.check.port);
  if (!destination)
    co_return out;
  proxy::EgressAttempt a;
  if (t.egress.kind == pool::EgressKind::source) {
    proxy::Resolver::Addresses addresses;
    boost::system::error_code literal_ec;
    const auto literal = asio::ip::make_address(t.check.host, literal_ec);
    if (!literal_ec) {
      addresses.push_back(literal);
    } else {
      auto [ec, found] = co_await resolver_.resolve(executor_, t.check.host, kAwait);
      if (ec)
        co_return out;  // unreachable: the check's own name does not resolve
      addresses = std::move(found);
    }
    const auto it = std::find_if(addresses.begin(), addresses.end(), [&](const auto& address) {
      return proxy::reaches(t.egress, address);
    });
    if (it == addresses.end())
      co_return out;
    a = co_await proxy::dial_source(socket, t.egress, tcp::endpoint(*it, t.check.port), expired);
  } else {
    tcp::endpoint upstream;
    boost::system::error_code literal_ec;
    const auto address = asio::ip::make_address(t.egress.host, literal_ec);
    if (!literal_ec) {
      upstream = tcp::endpoint(address, t.egress.port);
    } else {
      auto [ec, found] = co_await resolver_.resolve(executor_, t.egress.host, kAwait);
      if (ec || found.empty())
        co_return out;
      upstream = tcp::endpoint(found.front(), t.egress.port);
    }
    a = co_await proxy::dial_upstream(socket, t.egress, upstream, *destination, expired);
  }
  out.result = a.result;
  out.upstream_code = a.upstream_code;
  out.dial_time = a.took;
  if (!a.ok() || t.check.kind == config::EgressCheck::Kind::tcp)
    co_return out;

  // The HTTP GET: only its status line matters.
  const std::string host =
      t.check.host.find(':') != std::string::npos ? "[" + t.check.host + "]" : t.check.host;
  const std::string request = "GET " + t.check.path + " HTTP/1.1\r\nHost: " + host +
                              (t.check.port == 80 ? "" : ":" + std::to_string(t.check.port)) +
                              "\r\nUser-Agent: ipmanager-check\r\nConnection: close\r\n\r\n";
  auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(request), kAwait);
  std::string answer(reinterpret_cast<const char*>(a.early.data()), a.early.size());
  while (!write_ec && answer.find("\r\n") == std::string::npos && answer.size() < kMaxStatusLine) {
    char buf[1024];
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(buf), kAwait);
    answer.append(buf, n);
    if (ec)
      break;
  }
  const int status = status_of(std::string_view(answer).substr(0, answer.find("\r\n")));
  out.upstream_code = status;
  if (expired)
    out.result = DialResult::timeout;
  else if (status < 200 || status >= 400)
    out.result = DialResult::other_error;
  co_return out;
}

void EgressChecker::CheckState::expire() {
  expired = true;
  boost::system::error_code ignored;
  socket.cancel(ignored);
}

asio::awaitable<std::size_t> EgressChecker::run_due(pool::TimePoint now) {
  std::erase_if(running_, [](const auto& w) { return w.expired(); });
  const std::vector<std::size_t> due = schedule_.due(now);
  if (due.empty())
    co_return 0;
  auto done =
      std::make_shared<asio::steady_timer>(executor_, asio::steady_timer::time_point::max());
  auto pending = std::make_shared<std::size_t>(due.size());
  // Held by each check's handler: the outcome's id points into it, whatever a reload does.
  const Targets targets = targets_;
  for (const std::size_t i : due) {
    const CheckTarget& t = (*targets)[i];
    asio::co_spawn(executor_, check(t, now),
                   [this, done, pending, targets, &t](std::exception_ptr e, pool::DialOutcome o) {
                     if (e) {
                       try {
                         std::rethrow_exception(e);
                       } catch (const std::exception& x) {
                         log_error() << "check of " << t.egress.ip << ": " << x.what();
                       }
                     } else {
                       if (o.result != DialResult::ok)
                         log_warn()
                             << "check " << t.check.text << " through " << t.egress.ip
                             << " failed: " << to_string(o.result)
                             << (o.upstream_code >= 0 ? " (" + std::to_string(o.upstream_code) + ")"
                                                      : std::string());
                       report_(o);
                     }
                     if (--*pending == 0)
                       done->cancel();
                   });
  }
  co_await done->async_wait(kAwait);
  co_return due.size();
}

asio::awaitable<void> EgressChecker::loop() {
  while (!stopping_ && !targets_->empty()) {
    co_await run_due(pool::Clock::now());
    if (stopping_ || targets_->empty())
      break;
    const auto wait = schedule_.next() - pool::Clock::now();
    timer_.expires_after(std::max<std::chrono::steady_clock::duration>(
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(wait),
        std::chrono::steady_clock::duration::zero()));
    // Cancelled by stop(), or by set_targets() with a new schedule: the loop looks again.
    co_await timer_.async_wait(kAwait);
  }
  looping_ = false;
}

void EgressChecker::spawn_loop() {
  if (looping_ || stopping_ || targets_->empty())
    return;
  looping_ = true;
  asio::co_spawn(executor_, loop(), log_when_stopped("egress checks"));
}

void EgressChecker::start() {
  started_ = true;
  spawn_loop();
}

bool EgressChecker::set_targets(std::vector<CheckTarget> targets, pool::TimePoint now) {
  if (targets == *targets_)
    return false;
  schedule_ = schedule_of(targets, now);
  targets_ = std::make_shared<const std::vector<CheckTarget>>(std::move(targets));
  timer_.cancel();
  if (started_)
    spawn_loop();
  return true;
}

void EgressChecker::stop() {
  stopping_ = true;
  timer_.cancel();
  for (const auto& w : running_) {
    if (const auto state = w.lock(); state && !state->finished)
      state->expire();  // a check in flight ends now, as timed out, instead of at its deadline
  }
}

}  // namespace ipm::app
