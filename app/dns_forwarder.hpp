#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "config/config.hpp"
#include "proxy/client_filter.hpp"
#include "proxy/egress_source.hpp"
#include "proxy/protocol/dns_message.hpp"

namespace ipm::app {

/// Gateway mode's DNS forwarder (dns_host:dns_port, UDP and TCP): answers the clients of
/// gateway_subnets only (an open resolver is a reflection amplifier; others are dropped and
/// counted), relays each query whole to the dns_upstreams in turn, from the address of a
/// source egress the pool picks for it (a fresh socket per query with a random id, so an
/// off-path answer must guess both), and gives the client's id back on the answer. Not a
/// cache and not a resolver. With no source egress (upstream egresses only) the query leaves
/// by the host's own route. At most dns_max_in_flight queries at once (more are answered
/// SERVFAIL at once); each upstream gets dns_timeout; a query no upstream answers is answered
/// SERVFAIL. Metrics:
///   ipmanager_dns_queries_total{transport, result}  answered, failed, refused, malformed,
///                                                   overloaded
///   ipmanager_dns_in_flight                         queries being relayed
/// Runs on the executor it is given (one thread); not thread-safe.
class DnsForwarder {
 public:
  DnsForwarder(boost::asio::any_io_executor executor, const config::Config& c,
               proxy::EgressSource& egresses, prometheus::Registry& registry);
  DnsForwarder(const DnsForwarder&) = delete;
  DnsForwarder& operator=(const DnsForwarder&) = delete;
  ~DnsForwarder();

  /// Binds UDP and TCP on dns_host:dns_port and starts serving. Throws
  /// boost::system::system_error (a port in use, an address not on the host).
  void start();
  /// Closes the sockets; queries being relayed end at their timeout.
  void stop();
  boost::asio::ip::udp::endpoint local_endpoint() const;

 private:
  enum class Result : std::uint8_t { answered, failed, refused, malformed, overloaded };
  static constexpr std::size_t kResults = 5;
  struct Counters;

  boost::asio::awaitable<void> serve_udp();
  boost::asio::awaitable<void> relay_udp(std::vector<std::byte> query, protocol::dns::Query header,
                                         boost::asio::ip::udp::endpoint client);
  boost::asio::awaitable<void> serve_tcp();
  boost::asio::awaitable<void> tcp_client(boost::asio::ip::tcp::socket client);
  /// What the client gets for one query: the first upstream's answer, else SERVFAIL; counted
  /// in flight while it waits and by its result after. nullopt when the forwarder stopped
  /// meanwhile (nothing of it may be touched then).
  boost::asio::awaitable<std::optional<std::vector<std::byte>>> reply(std::vector<std::byte> query,
                                                                      protocol::dns::Query header,
                                                                      bool tcp);
  /// The answer of the first upstream that gives one, with the query's own id; empty when
  /// none does in time.
  boost::asio::awaitable<std::vector<std::byte>> ask(std::vector<std::byte> query,
                                                     protocol::dns::Query header, bool tcp);
  boost::asio::awaitable<std::vector<std::byte>> ask_one(const std::vector<std::byte>& query,
                                                         std::uint16_t id,
                                                         const config::DnsUpstream& upstream,
                                                         bool tcp);
  /// The local address a query to `upstream` leaves from: a source egress's, or none.
  std::string source_address(const config::DnsUpstream& upstream);
  void count(bool tcp, Result r);

  boost::asio::any_io_executor executor_;
  boost::asio::ip::udp::socket udp_;
  boost::asio::ip::tcp::acceptor tcp_;
  boost::asio::steady_timer stopping_;  ///< never expires; cancelled by stop()
  boost::asio::ip::udp::endpoint bind_to_;
  proxy::ClientFilter clients_;
  std::vector<config::DnsUpstream> upstreams_;
  config::Millis timeout_;
  std::uint32_t max_in_flight_;
  std::uint32_t in_flight_ = 0;
  std::shared_ptr<bool> alive_;  ///< false once stopped: coroutines that outlive it stop
  proxy::EgressSource& egresses_;
  std::mt19937 ids_;
  std::unique_ptr<Counters> counters_;
};

}  // namespace ipm::app
