// Worker::redirect_session: gateway mode's transparent front end. A client of the subnet
// connected to some address on the internet; the gateway's redirect rule brought the
// connection here, and conntrack remembers where it meant to go. There is no handshake: the
// original destination is the request, dialled through the pool like a SOCKS CONNECT, and a
// refusal is a plain FIN (the client expected no proxy and understands no proxy's reply).
#include "proxy/worker.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include "gateway/original_destination.hpp"
#include "pool/time.hpp"
#include "proxy/egress_connector.hpp"
#include "proxy/front_metrics.hpp"
#include "proxy/io_errors.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using protocol::Refusal;
using SteadyClock = std::chrono::steady_clock;

namespace {

// Where the connection goes, or why it goes nowhere.
struct RedirectRequest {
  std::optional<protocol::Destination> destination;
  Refusal refusal = Refusal::no_original_destination;
  std::string text;  ///< for the decision record
};

RedirectRequest redirect_request(int fd) {
  RedirectRequest r;
  std::error_code ec;
  const auto original = gateway::original_destination(fd, ec);
  const auto local = original ? gateway::local_destination(fd, ec) : std::nullopt;
  if (!original || !local)
    return r;  // no conntrack record: not a connection a redirect brought
  auto destination = protocol::Destination::from_host(original->address, original->port);
  if (!destination)
    return r;
  r.text = destination->to_string();  // as the socks and http front ends record theirs
  if (gateway::is_own_listener(*original, *local))
    r.refusal = Refusal::loop;
  else
    r.destination = std::move(destination);
  return r;
}

}  // namespace

asio::awaitable<void> Worker::redirect_session(tcp::socket client, tcp::endpoint peer,
                                               const Acceptor& acceptor) {
  const auto accepted = SteadyClock::now();
  constexpr config::FrontEnd front = config::FrontEnd::redirect;
  const FrontSupport& support = *shared_.front;
  pool::Decision decision = session_decision(peer, front);

  const SessionTally tally(*this);
  Connection c(std::move(client));
  enlist(c, accepted);

  const RedirectRequest wanted = redirect_request(c.client.native_handle());
  decision.destination = wanted.text;
  EgressConnection through;
  through.refusal = wanted.refusal;
  if (wanted.destination && !c.aborted())
    through = co_await dial(c, peer, acceptor, front, *wanted.destination, decision);

  std::optional<pool::ConnectionEnd> end = c.aborted();
  if (!end && through.connected && !through.early.empty()) {
    // An upstream's tunnel bytes that came with its answer are the destination's first words.
    auto [ec, n] = co_await asio::async_write(
        c.client, asio::buffer(through.early.data(), through.early.size()), kAwait);
    if (ec && !c.aborted())
      c.abort(pool::ConnectionEnd::client_reset);
    end = c.aborted();
  }
  if (end) {
    if (through.connected)
      release(through.egress);
  } else if (!through.connected) {
    support.metrics.refused(front, through.refusal);
    close_politely(c);
    end = through.failed_end();
  } else {
    end = co_await relay_and_count(c, decision);
  }
  record_end(std::move(decision), accepted, *end);
}

}  // namespace ipm::proxy
