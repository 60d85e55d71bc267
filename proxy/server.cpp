#include "proxy/server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>

#include "proxy/client_admission.hpp"
#include "proxy/cpu_allowance.hpp"
#include "proxy/destination_policy.hpp"
#include "proxy/dialer.hpp"
#include "proxy/egress_connector.hpp"
#include "proxy/front_metrics.hpp"
#include "proxy/interfaces.hpp"
#include "proxy/metrics.hpp"
#include "proxy/resolver.hpp"
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
      metrics_(std::make_unique<ProxyMetrics>(registry)),
      client_limits_(std::make_unique<clients::ClientLimits>(clients::LimitOptions{
          config.max_connections_per_client, config.max_connections_per_client_egress,
          config.client_prefix_v4, config.client_prefix_v6})),
      admission_(std::make_unique<ClientAdmission>(*client_limits_, registry)),
      front_metrics_(std::make_unique<FrontMetrics>(registry)) {
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
  dialer_ = std::make_unique<Dialer>(dial, source_, *metrics_, admission_.get());

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
  shared_->admission = admission_.get();
  const std::vector<config::Listener> front_ends = config_.front_ends();
  const bool dispatching = std::any_of(front_ends.begin(), front_ends.end(), [](const auto& l) {
    return l.type != config::FrontEnd::tcp;
  });
  if (dispatching) {
    resolver_ = std::make_unique<Resolver>(config_.resolver_threads);
    std::vector<asio::ip::address> own;
    for (const auto& a : interface_addresses())
      own.push_back(a.address);
    policy_ = std::make_unique<DestinationPolicy>(config_.allow_destinations,
                                                  config_.deny_destinations, own);
    connector_ = std::make_unique<EgressConnector>(source_, *resolver_, *policy_, *front_metrics_,
                                                   config_.dial_retries, admission_.get());
    front_ = std::make_unique<FrontSupport>(
        FrontSupport{*connector_, *front_metrics_, config_.handshake_timeout});
    shared_->front = front_.get();
  }

  std::vector<tcp::endpoint> endpoints;
  for (std::size_t i = 0; i < front_ends.size(); ++i) {
    const std::string key =
        config_.listen.empty() ? "proxy_host" : "listen[" + std::to_string(i) + "].host";
    endpoints.emplace_back(resolve(front_ends[i].host, key), front_ends[i].port);
  }
  for (std::uint32_t i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>(*shared_);
    for (std::size_t f = 0; f < front_ends.size(); ++f) {
      worker->listen(endpoints[f], threads > 1, front_ends[f]);
      endpoints[f] = worker->local_endpoint(f);  // the others share the port the first got
    }
    shared_->workers.push_back(worker.get());
    workers_.push_back(std::move(worker));
  }
  started_ = true;
  for (auto& w : workers_)
    w->start();
}

tcp::endpoint Server::local_endpoint(std::size_t i) const {
  if (workers_.empty())
    throw std::logic_error("proxy::Server::local_endpoint before start");
  return workers_.front()->local_endpoint(i);
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
