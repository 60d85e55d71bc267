#include "proxy/egress_connector.hpp"

#include <algorithm>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pool/time.hpp"
#include "proxy/client_admission.hpp"
#include "proxy/destination_policy.hpp"
#include "proxy/egress_dialer.hpp"
#include "proxy/front_metrics.hpp"
#include "proxy/io_errors.hpp"
#include "proxy/resolver.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using protocol::Refusal;

namespace {

// What the client hears when this attempt was the last one.
void answer_for(const EgressAttempt& a, const pool::Egress& e, EgressConnection& out) {
  out.socks5_code = -1;
  switch (a.result) {
    case pool::DialResult::refused:
      out.refusal = Refusal::refused;
      return;
    case pool::DialResult::timeout:
      out.refusal = Refusal::timeout;
      return;
    case pool::DialResult::unreachable:
      out.refusal = Refusal::unreachable;
      return;
    case pool::DialResult::upstream_refused:
      if (e.protocol == pool::UpstreamProtocol::socks5) {
        out.refusal = Refusal::failed;
        out.socks5_code = a.upstream_code;  // the upstream's own words, passed on
      } else if (e.protocol == pool::UpstreamProtocol::http && a.upstream_code == 403) {
        out.refusal = Refusal::not_allowed;
      } else if (e.protocol == pool::UpstreamProtocol::http && a.upstream_code == 504) {
        out.refusal = Refusal::timeout;
      } else {
        out.refusal = Refusal::refused;
      }
      return;
    case pool::DialResult::ok:
    case pool::DialResult::other_error:
    case pool::DialResult::bind_failed:
    case pool::DialResult::upstream_error:
      break;
  }
  out.refusal = Refusal::failed;
}

tcp::endpoint endpoint_of(const protocol::Destination& d) {
  if (d.type == protocol::AddressType::ipv4)
    return {asio::ip::address_v4({d.ip[0], d.ip[1], d.ip[2], d.ip[3]}), d.port};
  asio::ip::address_v6::bytes_type b;
  std::copy(d.ip.begin(), d.ip.end(), b.begin());
  return {asio::ip::address_v6(b), d.port};
}

config::Family family_of(const protocol::Destination& d) {
  switch (d.type) {
    case protocol::AddressType::ipv4:
      return config::Family::ipv4;
    case protocol::AddressType::ipv6:
      return config::Family::ipv6;
    case protocol::AddressType::domain:
      break;
  }
  return config::Family::any;
}

}  // namespace

EgressConnector::EgressConnector(EgressSource& source, Resolver& resolver,
                                 const DestinationPolicy& policy, FrontMetrics& metrics,
                                 std::uint32_t retries, ClientAdmission* admission)
    : source_(source),
      resolver_(resolver),
      policy_(policy),
      metrics_(metrics),
      retries_(retries),
      admission_(admission) {}

asio::awaitable<EgressConnection> EgressConnector::connect(Connection& c, DialWatch& watch,
                                                           const protocol::Destination& destination,
                                                           pool::Request request,
                                                           config::FrontEnd front) const {
  EgressConnection out;
  if (destination.is_ip() &&
      !policy_.allowed(endpoint_of(destination).address(), destination.port)) {
    out.refusal = Refusal::not_allowed;
    co_return out;
  }
  request.host = destination.host;
  request.port = destination.port;
  request.front_end = front;
  request.family = family_of(destination);
  request.kinds = pool::Request::kind_bit(pool::EgressKind::source) |
                  pool::Request::kind_bit(pool::EgressKind::upstream);
  const auto executor = co_await asio::this_coro::executor;

  std::optional<Resolver::Addresses> resolved;  // a domain's addresses, for source egresses
  std::vector<pool::Egress> tried;
  bool capped = false;  // an egress was skipped for the client's per-egress cap
  while (out.tries <= retries_) {
    if (c.aborted())
      co_return out;
    clients::ClientLimits::Lease lease;  // held through the dial, then by the connection
    std::optional<pool::Egress> egress =
        admission_ ? admission_->pick(source_, c, request, tried, lease, capped)
                   : source_.pick(request, tried);
    if (!egress && out.tries == 0 && capped) {
      admission_->refused_at_egress_cap(front);
      out.refusal = Refusal::client_limit;
      co_return out;
    }
    if (!egress) {
      if (out.tries == 0 && out.refusal == Refusal::no_egress &&
          request.family != config::Family::any) {
        // Nothing of the destination's family: say so when the pool has egresses of the other.
        pool::Request any = request;
        any.family = config::Family::any;
        if (auto other = source_.pick(any, tried)) {
          source_.abandoned(*other);
          out.refusal = Refusal::address_mismatch;
        }
      }
      co_return out;  // no_egress, or the last attempt's answer
    }
    out.egress = *egress;
    EgressAttempt a;
    if (egress->kind == pool::EgressKind::source) {
      tcp::endpoint to;
      if (destination.is_ip()) {
        to = endpoint_of(destination);
      } else {
        if (!resolved) {
          auto [ec, addresses] = co_await resolver_.resolve(executor, destination.host, kAwait);
          if (c.aborted() || ec) {
            source_.abandoned(*egress);
            out.refusal = Refusal::dns_failed;
            co_return out;
          }
          std::erase_if(addresses, [&](const asio::ip::address& address) {
            return !policy_.allowed(address, destination.port);
          });
          if (addresses.empty()) {
            source_.abandoned(*egress);
            out.refusal = Refusal::not_allowed;
            co_return out;
          }
          resolved = std::move(addresses);
        }
        const auto it = std::find_if(resolved->begin(), resolved->end(), [&](const auto& address) {
          return reaches(*egress, address);
        });
        if (it == resolved->end()) {
          // Not the egress's fault: one of the other family may serve it. Not a try either.
          source_.abandoned(*egress);
          out.refusal = Refusal::address_mismatch;
          tried.push_back(std::move(*egress));
          continue;
        }
        to = tcp::endpoint(*it, destination.port);
      }
      ++out.tries;
      watch.watch(c, std::chrono::steady_clock::now());
      a = co_await dial_source(c.egress, *egress, to, c.dial_expired);
      watch.unwatch(c);
    } else {
      ++out.tries;
      tcp::endpoint upstream;
      boost::system::error_code literal_ec;
      const auto address = asio::ip::make_address(egress->host, literal_ec);
      if (!literal_ec) {
        upstream = tcp::endpoint(address, egress->port);
      } else {  // an upstream named by host name
        auto [ec, addresses] = co_await resolver_.resolve(executor, egress->host, kAwait);
        if (ec || addresses.empty())
          a.result = pool::DialResult::unreachable;
        else
          upstream = tcp::endpoint(addresses.front(), egress->port);
      }
      if (a.ok() && !c.aborted()) {
        watch.watch(c, std::chrono::steady_clock::now());
        a = co_await dial_upstream(c.egress, *egress, upstream, destination, c.dial_expired);
        watch.unwatch(c);
      }
    }
    if (c.aborted()) {
      source_.abandoned(*egress);
      co_return out;
    }
    if (a.local) {
      // Out of descriptors or memory here: no egress is to blame, and none would do better now.
      source_.abandoned(*egress);
      out.refusal = Refusal::failed;
      co_return out;
    }
    pool::DialOutcome outcome;
    outcome.ip = egress->ip;
    outcome.port = egress->port;
    outcome.time = pool::Clock::now();
    outcome.result = a.result;
    outcome.dial_time = a.took;
    outcome.kind = egress->kind;
    outcome.upstream_code = a.upstream_code;
    outcome.protocol = egress->protocol;
    outcome.target = destination.host;
    source_.report(outcome);
    metrics_.dial(front, egress->kind, a.result);
    if (a.result == pool::DialResult::upstream_refused)
      metrics_.upstream_reply(egress->protocol, a.upstream_code);
    if (a.ok()) {
      c.egress_lease = std::move(lease);
      out.connected = true;
      out.dial_time = a.took;
      out.bound = std::move(a.bound);
      out.early = std::move(a.early);
      co_return out;
    }
    answer_for(a, *egress, out);
    tried.push_back(std::move(*egress));
  }
  co_return out;
}

}  // namespace ipm::proxy
