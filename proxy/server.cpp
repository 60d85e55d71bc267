#include "proxy/server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <limits>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>

#include "proxy/cpu_allowance.hpp"
#include "proxy/dialer.hpp"
#include "proxy/metrics.hpp"
#include "proxy/worker.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

/// An IP literal, or the first address a blocking lookup gives (startup only).
asio::ip::address resolve(const std::string& host, std::string_view key) {
  boost::system::error_code ec;
  asio::ip::address address = asio::ip::make_address(host, ec);
  if (!ec)
    return address;
  asio::io_context ctx;
  tcp::resolver resolver(ctx);
  const auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty())
    throw std::runtime_error(std::string(key) + ": cannot resolve '" + host +
                             "': " + (ec ? ec.message() : "no address"));
  return results.begin()->endpoint().address();
}

// One write(2) per line: lines from several workers never interleave, and nothing here needs a
// free descriptor (warnings are often about running out of them).
void warn_to_stderr(std::string_view line) {
  std::string out(line);
  out += '\n';
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, out.data(), out.size());
}

std::uint64_t descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return std::numeric_limits<std::uint32_t>::max();
  return limit.rlim_cur;
}

}  // namespace

Server::Server(const config::Config& config, EgressSource& source, pool::DecisionLog& decisions,
               prometheus::Registry& registry, Options options)
    : config_(config),
      source_(source),
      decisions_(decisions),
      options_(std::move(options)),
      metrics_(std::make_unique<ProxyMetrics>(registry)) {
  if (!options_.warn)
    options_.warn = warn_to_stderr;
}

Server::~Server() {
  if (started_) {
    stop(config::Millis{0});
    wait();
  }
}

void Server::start() {
  if (started_)
    throw std::logic_error("proxy::Server::start called twice");
  DialSettings dial;
  dial.next = resolve(config_.next, "next");
  dial.timeout = config_.dial_timeout;
  dial.retries = config_.dial_retries;
  dial.fix_port = config_.fix_port;
  dialer_ = std::make_unique<Dialer>(dial, source_, *metrics_);

  std::uint32_t threads = config_.proxy_threads;
  if (threads == 0) {
    const CpuAllowance cpus = usable_cpus();
    threads = cpus.cpus;
    workers_why_ = "proxy_threads 0: one per usable CPU; " + cpus.why;
  } else {
    workers_why_ = "proxy_threads " + std::to_string(threads);
  }

  descriptors_ = plan_descriptors(descriptor_limit(), options_.reserved_descriptors, threads,
                                  config_.proxy_splice, config_.max_connections);
  metrics_->max_connections.Set(descriptors_.max_connections);
  RelayLimits limits{config_.idle_timeout, config_.close_timeout, config_.max_connection_timeout};
  shared_ = std::make_unique<WorkerShared>(*dialer_, source_, *metrics_, decisions_, limits,
                                           descriptors_.max_connections, options_.buffer_bytes,
                                           config_.proxy_splice, options_.warn);
  shared_->allow_clients = ClientFilter(config_.proxy_allow_clients);
  // The socks, http and mixed front ends come with the workers' handshakes (issue 15, next
  // step); until then only the tcp front end runs.
  const std::vector<config::Listener> front_ends = config_.front_ends();
  for (std::size_t i = 0; i < front_ends.size(); ++i) {
    if (front_ends[i].type != config::FrontEnd::tcp || i > 0)
      throw std::runtime_error("listen[" + std::to_string(i) +
                               "]: only one tcp front end runs yet");
  }
  tcp::endpoint endpoint(
      resolve(front_ends[0].host, config_.listen.empty() ? "proxy_host" : "listen[0].host"),
      front_ends[0].port);
  for (std::uint32_t i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>(*shared_);
    worker->listen(endpoint, threads > 1);
    endpoint = worker->local_endpoint();  // the others share the port the first one got
    shared_->workers.push_back(worker.get());
    workers_.push_back(std::move(worker));
  }
  started_ = true;
  for (auto& w : workers_)
    w->start();
}

tcp::endpoint Server::local_endpoint(std::size_t i) const {
  if (workers_.empty() || i > 0)
    throw std::logic_error("proxy::Server::local_endpoint before start");
  return workers_.front()->local_endpoint();
}

void Server::stop() {
  stop(config_.drain_timeout);
}

void Server::stop(config::Millis drain) {
  for (auto& w : workers_)
    w->stop(drain);
}

void Server::wait() {
  for (auto& w : workers_)
    w->join();
}

std::uint32_t Server::active_connections() const {
  return shared_ ? shared_->active.load() : 0;
}

Server::RelayedBytes Server::relayed_bytes() const {
  if (!metrics_)
    return {};
  return {static_cast<std::uint64_t>(metrics_->bytes_up.Value()),
          static_cast<std::uint64_t>(metrics_->bytes_down.Value())};
}

}  // namespace ipm::proxy
