#include "app/dns_forwarder.hpp"

#include <sys/socket.h>

#include <array>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "app/log.hpp"
#include "proxy/io_errors.hpp"

namespace ipm::app {
namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using namespace asio::experimental::awaitable_operators;
namespace dns = protocol::dns;
using proxy::kAwait;

namespace {

std::vector<config::DnsUpstream> parse_upstreams(const std::vector<std::string>& texts) {
  std::vector<config::DnsUpstream> out;
  for (const auto& t : texts) {
    std::string why;
    if (const auto u = config::parse_dns_upstream(t, why))
      out.push_back(*u);  // validated at load: a bad one cannot be here
  }
  return out;
}

// Every coroutine of the forwarder ends here: nothing fails silently.
void log_end(std::exception_ptr e) {
  if (!e)
    return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log_error() << "dns: " << ex.what();
  }
}

// A TCP client gets this long between its messages (RFC 7766 suggests seconds).
constexpr std::chrono::seconds kTcpIdle{10};

template <class Socket>
bool bind_source(Socket& s, const std::string& address, boost::system::error_code& ec) {
  if (address.empty())
    return true;  // the host's own route
  s.bind({asio::ip::make_address(address, ec), 0}, ec);
  return !ec;
}

}  // namespace

struct DnsForwarder::Counters {
  std::array<std::array<prometheus::Counter*, kResults>, 2> queries{};
  prometheus::Gauge* in_flight = nullptr;
};

DnsForwarder::DnsForwarder(asio::any_io_executor executor, const config::Config& c,
                           proxy::EgressSource& egresses, prometheus::Registry& registry)
    : executor_(executor),
      udp_(executor),
      tcp_(executor),
      stopping_(executor, asio::steady_timer::time_point::max()),
      bind_to_(asio::ip::make_address(c.dns_host), c.dns_port),
      clients_(c.gateway_subnets),
      upstreams_(parse_upstreams(c.dns_upstreams)),
      timeout_(c.dns_timeout),
      max_in_flight_(c.dns_max_in_flight),
      alive_(std::make_shared<bool>(true)),
      egresses_(egresses),
      ids_(std::random_device{}()),
      counters_(std::make_unique<Counters>()) {
  auto& queries = prometheus::BuildCounter()
                      .Name("ipmanager_dns_queries_total")
                      .Help("DNS queries of gateway clients, by transport and result")
                      .Register(registry);
  constexpr std::array<const char*, kResults> kNames{"answered", "failed", "refused", "malformed",
                                                     "overloaded"};
  for (std::size_t t = 0; t < 2; ++t) {
    for (std::size_t r = 0; r < kResults; ++r)
      counters_->queries[t][r] =
          &queries.Add({{"transport", t == 0 ? "udp" : "tcp"}, {"result", kNames[r]}});
  }
  counters_->in_flight = &prometheus::BuildGauge()
                              .Name("ipmanager_dns_in_flight")
                              .Help("DNS queries being relayed to an upstream resolver")
                              .Register(registry)
                              .Add({});
}

DnsForwarder::~DnsForwarder() {
  *alive_ = false;
}

void DnsForwarder::start() {
  // Port 0 (tests): the kernel picks a UDP port, whose number TCP may hold elsewhere; another
  // is drawn then, a bounded number of times.
  for (int attempt = 0;; ++attempt) {
    udp_.open(bind_to_.protocol());
    udp_.bind(bind_to_);
    const tcp::endpoint stream(bind_to_.address(), udp_.local_endpoint().port());
    tcp_.open(stream.protocol());
    tcp_.set_option(tcp::acceptor::reuse_address(true));
    boost::system::error_code ec;
    tcp_.bind(stream, ec);
    if (!ec)
      break;
    udp_.close();
    tcp_.close();
    if (bind_to_.port() != 0 || ec != asio::error::address_in_use || attempt == 20)
      throw boost::system::system_error(ec, "dns: tcp bind " + bind_to_.address().to_string());
  }
  tcp_.listen();
  asio::co_spawn(executor_, serve_udp(), log_end);
  asio::co_spawn(executor_, serve_tcp(), log_end);
}

void DnsForwarder::stop() {
  boost::system::error_code ignored;
  udp_.close(ignored);
  tcp_.close(ignored);
  stopping_.cancel();  // wakes the TCP clients waiting for their next query
}

udp::endpoint DnsForwarder::local_endpoint() const {
  return udp_.local_endpoint();
}

void DnsForwarder::count(bool tcp, Result r) {
  counters_->queries[tcp ? 1 : 0][static_cast<std::size_t>(r)]->Increment();
}

std::string DnsForwarder::source_address(const config::DnsUpstream& upstream) {
  pool::Request request;
  request.host = upstream.address;
  request.port = upstream.port;
  request.family =
      upstream.address.find(':') == std::string::npos ? pool::Family::ipv4 : pool::Family::ipv6;
  request.kinds = pool::Request::kind_bit(pool::EgressKind::source);
  request.front_end = config::FrontEnd::redirect;
  const auto egress = egresses_.pick(request, {});
  if (!egress)
    return {};
  // A datagram to a resolver says nothing of the egress's health (the resolver may be
  // slow): the pick is only a choice of address.
  egresses_.abandoned(*egress);
  return egress->ip;
}

asio::awaitable<void> DnsForwarder::serve_udp() {
  std::vector<std::byte> buffer(dns::kMaxMessage);
  const auto alive = alive_;
  while (udp_.is_open()) {
    udp::endpoint client;
    auto [ec, n] = co_await udp_.async_receive_from(asio::buffer(buffer), client, kAwait);
    if (!*alive || ec == asio::error::operation_aborted || !udp_.is_open())
      co_return;
    if (ec)
      continue;  // an ICMP error of an earlier answer
    if (!clients_.allows(client.address())) {
      count(false, Result::refused);  // silence: no answer to be reflected at someone
      continue;
    }
    const std::span<const std::byte> message(buffer.data(), n);
    const auto query = dns::parse_query(message);
    if (!query) {
      count(false, Result::malformed);
      continue;
    }
    if (in_flight_ >= max_in_flight_) {
      count(false, Result::overloaded);
      const auto reply = dns::error_reply(message, *query, dns::Rcode::server_failure);
      co_await udp_.async_send_to(asio::buffer(reply), client, kAwait);
      continue;
    }
    asio::co_spawn(
        executor_,
        relay_udp(std::vector<std::byte>(message.begin(), message.end()), *query, client), log_end);
  }
}

asio::awaitable<void> DnsForwarder::relay_udp(std::vector<std::byte> query, dns::Query header,
                                              udp::endpoint client) {
  const std::optional<std::vector<std::byte>> answer =
      co_await reply(std::move(query), header, false);
  if (answer && udp_.is_open())
    co_await udp_.async_send_to(asio::buffer(*answer), client, kAwait);
}

asio::awaitable<std::optional<std::vector<std::byte>>> DnsForwarder::reply(
    std::vector<std::byte> query, dns::Query header, bool tcp) {
  const auto alive = alive_;
  ++in_flight_;
  counters_->in_flight->Increment();
  std::vector<std::byte> answer = co_await ask(query, header, tcp);
  if (!*alive)
    co_return std::nullopt;
  --in_flight_;
  counters_->in_flight->Decrement();
  count(tcp, answer.empty() ? Result::failed : Result::answered);
  if (answer.empty())
    answer = dns::error_reply(query, header, dns::Rcode::server_failure);
  co_return answer;
}

asio::awaitable<void> DnsForwarder::serve_tcp() {
  const auto alive = alive_;
  while (tcp_.is_open()) {
    tcp::socket client(executor_);
    tcp::endpoint peer;
    auto [ec] = co_await tcp_.async_accept(client, peer, kAwait);
    if (!*alive || ec == asio::error::operation_aborted || !tcp_.is_open())
      co_return;
    if (ec)
      continue;
    if (!clients_.allows(peer.address())) {
      count(true, Result::refused);
      continue;  // closed here
    }
    asio::co_spawn(executor_, tcp_client(std::move(client)), log_end);
  }
}

asio::awaitable<void> DnsForwarder::tcp_client(tcp::socket client) {
  const auto alive = alive_;
  dns::TcpReader reader;
  std::array<std::byte, 4096> buffer{};
  asio::steady_timer idle(executor_);
  for (;;) {
    idle.expires_after(kTcpIdle);
    auto read = co_await (client.async_read_some(asio::buffer(buffer), kAwait) ||
                          idle.async_wait(kAwait) || stopping_.async_wait(kAwait));
    if (!*alive || read.index() != 0 || !tcp_.is_open())
      co_return;  // idle too long, or the forwarder stopped
    auto [ec, n] = std::get<0>(read);
    if (ec || n == 0)
      co_return;
    std::size_t at = 0;
    while (at < n) {
      const protocol::Step step = reader.put(std::span(buffer.data() + at, n - at));
      at += step.consumed;
      if (step.status == protocol::Status::error) {
        count(true, Result::malformed);
        co_return;
      }
      if (step.status != protocol::Status::done)
        continue;
      const std::vector<std::byte> query = reader.message();
      const auto header = dns::parse_query(query);
      if (!header) {
        count(true, Result::malformed);
        co_return;  // a stream we cannot follow
      }
      std::vector<std::byte> answer;
      if (in_flight_ >= max_in_flight_) {
        count(true, Result::overloaded);
        answer = dns::error_reply(query, *header, dns::Rcode::server_failure);
      } else {
        std::optional<std::vector<std::byte>> replied = co_await reply(query, *header, true);
        if (!replied)
          co_return;  // the forwarder stopped
        answer = std::move(*replied);
      }
      const auto framed = dns::tcp_frame(answer);
      auto [write_ec, written] = co_await asio::async_write(client, asio::buffer(framed), kAwait);
      if (write_ec)
        co_return;
    }
  }
}

asio::awaitable<std::vector<std::byte>> DnsForwarder::ask(std::vector<std::byte> query,
                                                          dns::Query header, bool tcp) {
  for (const config::DnsUpstream& upstream : upstreams_) {
    const auto id = static_cast<std::uint16_t>(ids_());
    dns::set_message_id(query, id);
    std::vector<std::byte> answer = co_await ask_one(query, id, upstream, tcp);
    if (!answer.empty()) {
      dns::set_message_id(answer, header.id);
      co_return answer;
    }
  }
  co_return std::vector<std::byte>{};
}

asio::awaitable<std::vector<std::byte>> DnsForwarder::ask_one(const std::vector<std::byte>& query,
                                                              std::uint16_t id,
                                                              const config::DnsUpstream& upstream,
                                                              bool tcp) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(upstream.address, ec);
  if (ec)
    co_return std::vector<std::byte>{};
  const std::string source = source_address(upstream);
  asio::steady_timer deadline(executor_, timeout_);
  std::vector<std::byte> buffer(dns::kMaxMessage);
  if (!tcp) {
    const udp::endpoint to(address, upstream.port);
    udp::socket s(executor_);
    s.open(to.protocol(), ec);
    if (ec || !bind_source(s, source, ec))
      co_return std::vector<std::byte>{};
    // connect(2): the kernel drops datagrams from anyone but the resolver.
    s.connect(to, ec);
    if (ec)
      co_return std::vector<std::byte>{};
    s.send(asio::buffer(query), 0, ec);
    if (ec)
      co_return std::vector<std::byte>{};
    for (;;) {
      auto got =
          co_await (s.async_receive(asio::buffer(buffer), kAwait) || deadline.async_wait(kAwait));
      if (got.index() == 1)
        co_return std::vector<std::byte>{};  // timed out
      auto [rec, n] = std::get<0>(got);
      if (rec)
        co_return std::vector<std::byte>{};  // refused (ICMP): the next upstream
      if (dns::is_response_to(std::span(buffer.data(), n), id))
        co_return std::vector<std::byte>(buffer.begin(), buffer.begin() + static_cast<long>(n));
    }
  }
  const tcp::endpoint to(address, upstream.port);
  tcp::socket s(executor_);
  s.open(to.protocol(), ec);
  if (ec || !bind_source(s, source, ec))
    co_return std::vector<std::byte>{};
  auto connected = co_await (s.async_connect(to, kAwait) || deadline.async_wait(kAwait));
  if (connected.index() == 1 || std::get<0>(std::get<0>(connected)))
    co_return std::vector<std::byte>{};
  const auto framed = dns::tcp_frame(query);
  auto written =
      co_await (asio::async_write(s, asio::buffer(framed), kAwait) || deadline.async_wait(kAwait));
  if (written.index() == 1 || std::get<0>(std::get<0>(written)))
    co_return std::vector<std::byte>{};
  dns::TcpReader reader;
  for (;;) {
    auto got =
        co_await (s.async_read_some(asio::buffer(buffer), kAwait) || deadline.async_wait(kAwait));
    if (got.index() == 1)
      co_return std::vector<std::byte>{};
    auto [rec, n] = std::get<0>(got);
    if (rec || n == 0)
      co_return std::vector<std::byte>{};
    const protocol::Step step = reader.put(std::span(buffer.data(), n));
    if (step.status == protocol::Status::error)
      co_return std::vector<std::byte>{};
    if (step.status == protocol::Status::done)
      co_return dns::is_response_to(reader.message(), id) ? reader.message()
                                                          : std::vector<std::byte>{};
  }
}

}  // namespace ipm::app
