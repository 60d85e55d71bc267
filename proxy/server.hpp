#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "clients/client_limits.hpp"
#include "config/config.hpp"
#include "pool/decision_log.hpp"
#include "proxy/descriptor_budget.hpp"
#include "proxy/egress_source.hpp"

namespace prometheus {
class Registry;
}

namespace ipm::proxy {

class ClientAdmission;
class Dialer;
class DestinationPolicy;
class EgressConnector;
class FrontMetrics;
class ProxyMetrics;
class Resolver;
class Worker;
struct FrontSupport;
struct WorkerShared;

/// Tuning that is not configuration: the benchmark varies it, the app keeps the defaults.
struct ServerOptions {
  /// Relay buffer per direction, while a burst is in use. 32 KB measured fastest over loopback
  /// (tests/bench/proxy_vs_haproxy.sh): 64 KB moved about 40% less, 16 KB about 6% less.
  std::size_t buffer_bytes = 32 * 1024;
  /// Where warnings go (accept errors, exceptions); default: one line on stderr.
  std::function<void(std::string_view)> warn;
  /// Descriptors the rest of the process needs (the probe, the tailer, logs): the connection
  /// cap leaves them free (see DescriptorBudget). The app computes its own.
  std::uint64_t reserved_descriptors = 64;
};

/// The TCP proxy: clients connect to proxy_host:proxy_port and each connection is relayed to
/// next:PORT of an egress the EgressSource picks (see Dialer for failover, relay() for the
/// relay). Every connection leaves a pool::Decision in the DecisionLog and updates the
/// ipmanager_proxy_* metrics.
///
/// Threading: the server runs its own `proxy_threads` threads (0: one per CPU the process may
/// use: its affinity mask and cgroup CPU quota, see usable_cpus()), each with its
/// own io_context and SO_REUSEPORT acceptor; a connection lives on one thread from accept to
/// close. start(), stop() and wait() are called from the owner's thread; stop() may also be
/// called from any thread (e.g. a signal handler coroutine). The EgressSource, DecisionLog and
/// Registry must outlive the Server.
class Server {
 public:
  using Options = ServerOptions;

  Server(const config::Config& config, EgressSource& source, pool::DecisionLog& decisions,
         prometheus::Registry& registry, Options options = {});
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  /// Cuts open connections at once (stop with a zero drain) and joins the threads.
  ~Server();

  /// Resolves `next` and `proxy_host`, binds and starts the threads. Throws
  /// std::runtime_error naming the key on a bad address, boost::system::system_error when
  /// the port cannot be bound. Call once.
  void start();

  /// The bound address of the `i`-th front end of config.front_ends() (the real port when
  /// its port is 0).
  boost::asio::ip::tcp::endpoint local_endpoint(std::size_t i = 0) const;

  /// Graceful drain: closes the listeners now, lets open connections finish for up to
  /// `drain_timeout` (or `drain`), then cuts the rest. Returns at once; wait() joins.
  /// A second call cuts the remaining connections at once.
  void stop();
  void stop(config::Millis drain);

  /// Blocks until every worker thread has ended (after stop() and the drain).
  void wait();

  /// Client connections currently open (dialing or relaying), across all threads.
  std::uint32_t active_connections() const;

  /// How many connections it takes at once and why (after start()).
  const DescriptorBudget& descriptors() const { return descriptors_; }
  /// How many worker threads run and why (after start()), for the startup log.
  std::size_t workers() const { return workers_.size(); }
  const std::string& workers_why() const { return workers_why_; }

  /// Bytes relayed since start, as ipmanager_proxy_relayed_bytes_total counts them.
  struct RelayedBytes {
    std::uint64_t up = 0;    ///< client -> egress
    std::uint64_t down = 0;  ///< egress -> client
  };
  RelayedBytes relayed_bytes() const;

  /// The open connections of each client (and through each egress), as the per-client caps
  /// count them. Thread-safe.
  const clients::ClientLimits& client_limits() const { return *client_limits_; }

 private:
  const config::Config config_;
  EgressSource& source_;
  pool::DecisionLog& decisions_;
  Options options_;
  std::unique_ptr<ProxyMetrics> metrics_;
  std::unique_ptr<clients::ClientLimits> client_limits_;
  std::unique_ptr<ClientAdmission> admission_;
  std::unique_ptr<Dialer> dialer_;
  std::unique_ptr<Resolver> resolver_;
  std::unique_ptr<DestinationPolicy> policy_;
  std::unique_ptr<EgressConnector> connector_;
  std::unique_ptr<FrontMetrics> front_metrics_;
  std::unique_ptr<FrontSupport> front_;
  std::unique_ptr<WorkerShared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  DescriptorBudget descriptors_;
  std::string workers_why_;
  bool started_ = false;
};

}  // namespace ipm::proxy
