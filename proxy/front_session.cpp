// Worker::front_session: the socks, http and mixed front ends. The coroutine only reads,
// feeds the codecs of proxy/protocol and writes what they answer; every decision about bytes
// is theirs, every decision about egresses the EgressSource's.
#include "proxy/worker.hpp"

#include <cstring>
#include <variant>

#include <boost/asio/buffer.hpp>
#include <boost/asio/write.hpp>

#include "clients/sticky_key.hpp"
#include "pool/time.hpp"
#include "proxy/egress_connector.hpp"
#include "proxy/front_metrics.hpp"
#include "proxy/io_errors.hpp"
#include "proxy/protocol/http_request.hpp"
#include "proxy/protocol/replies.hpp"
#include "proxy/protocol/socks4_server.hpp"
#include "proxy/protocol/socks5_server.hpp"

namespace ipm::proxy {
namespace asio = boost::asio;
using asio::ip::tcp;
using protocol::FrontProtocol;
using protocol::Refusal;
using protocol::Status;
using SteadyClock = std::chrono::steady_clock;

namespace {

// The server codec of one client, chosen by its first byte among those its front end speaks.
class Handshake {
 public:
  Handshake(config::FrontEnd front, protocol::CredentialCheck check)
      : front_(front), check_(std::move(check)) {}

  protocol::Step put(protocol::Bytes in) {
    if (std::holds_alternative<std::monostate>(codec_)) {
      if (in.empty())
        return {0, Status::need_more};
      protocol_ = protocol::detect(in[0]);
      const bool socks = front_ != config::FrontEnd::http;
      const bool http = front_ != config::FrontEnd::socks;
      if (protocol_ == FrontProtocol::socks5 && socks)
        codec_.emplace<protocol::Socks5Server>(check_);
      else if (protocol_ == FrontProtocol::socks4 && socks)
        codec_.emplace<protocol::Socks4Server>(static_cast<bool>(check_));
      else if (protocol_ == FrontProtocol::http && http)
        codec_.emplace<protocol::HttpRequest>(check_);
      else
        return {0, Status::error};  // a protocol this front end does not speak: just close
    }
    return std::visit(
        [in](auto& c) -> protocol::Step {
          if constexpr (std::is_same_v<std::decay_t<decltype(c)>, std::monostate>)
            return {0, Status::error};
          else
            return c.put(in);
        },
        codec_);
  }

  FrontProtocol protocol() const { return protocol_; }

  const std::vector<std::byte>& output() const {
    static const std::vector<std::byte> none;
    return std::visit(
        [](const auto& c) -> const std::vector<std::byte>& {
          if constexpr (std::is_same_v<std::decay_t<decltype(c)>, std::monostate>)
            return none;
          else
            return c.output();
        },
        codec_);
  }

  protocol::Failure failure() const {
    return std::visit(
        [](const auto& c) {
          if constexpr (std::is_same_v<std::decay_t<decltype(c)>, std::monostate>)
            return protocol::Failure::bad_version;
          else
            return c.failure();
        },
        codec_);
  }

  template <class Codec>
  const Codec* as() const {
    return std::get_if<Codec>(&codec_);
  }

  const protocol::Destination& destination() const {
    if (const auto* s5 = as<protocol::Socks5Server>())
      return s5->destination();
    if (const auto* s4 = as<protocol::Socks4Server>())
      return s4->destination();
    return std::get<protocol::HttpRequest>(codec_).destination();
  }

  const protocol::Credentials& credentials() const {
    if (const auto* s5 = as<protocol::Socks5Server>())
      return s5->credentials();
    if (const auto* s4 = as<protocol::Socks4Server>())
      return s4->credentials();
    return std::get<protocol::HttpRequest>(codec_).credentials();
  }

  /// The reply that refuses the request, in the client's protocol.
  std::vector<std::byte> refusal(Refusal r, int socks5_code) const {
    switch (protocol_) {
      case FrontProtocol::socks5:
        return protocol::socks5_reply(socks5_code >= 0 ? static_cast<std::uint8_t>(socks5_code)
                                                       : protocol::socks5_code(r));
      case FrontProtocol::socks4:
        return protocol::socks4_reply(protocol::socks4::kRejected);
      case FrontProtocol::http:
        return protocol::http_response(protocol::http_status(r));
      case FrontProtocol::unknown:
        break;
    }
    return {};
  }

  /// The reply that says the tunnel is up (empty for an absolute-URI HTTP request).
  std::vector<std::byte> success(const protocol::Destination& bound) const {
    switch (protocol_) {
      case FrontProtocol::socks5:
        return protocol::socks5_reply(protocol::socks5::kSucceeded, &bound);
      case FrontProtocol::socks4:
        return protocol::socks4_reply(protocol::socks4::kGranted, &bound);
      case FrontProtocol::http:
        if (as<protocol::HttpRequest>()->is_connect())
          return protocol::http_connect_established();
        break;
      case FrontProtocol::unknown:
        break;
    }
    return {};
  }

 private:
  config::FrontEnd front_;
  protocol::CredentialCheck check_;
  FrontProtocol protocol_ = FrontProtocol::unknown;
  std::variant<std::monostate, protocol::Socks5Server, protocol::Socks4Server,
               protocol::HttpRequest>
      codec_;
};

}  // namespace

asio::awaitable<void> Worker::front_session(tcp::socket client, tcp::endpoint peer,
                                            const Acceptor& acceptor) {
  const auto accepted = SteadyClock::now();
  const config::FrontEnd front = acceptor.spec.type;
  const FrontSupport& support = *shared_.front;
  pool::Decision decision = session_decision(peer, front);

  const SessionTally tally(*this);
  Connection c(std::move(client));
  enlist(c, accepted);

  std::optional<pool::ConnectionEnd> end;
  // --- the client's handshake, bounded by handshake_timeout
  BufferPool::Lease buffer = first_buffers_.take();
  const std::span<std::byte> space = buffer.bytes();
  std::size_t have = 0;
  std::size_t payload_at = 0;
  Handshake handshake(front, acceptor.check);
  handshake_watch_.watch(c, accepted);
  while (!end && !c.aborted()) {
    if (have == space.size()) {  // no handshake of ours is this long
      support.metrics.handshake_failed(front, protocol::Failure::too_large);
      end = pool::ConnectionEnd::handshake_failed;
      break;
    }
    auto [ec, n] = co_await c.client.async_read_some(
        asio::buffer(space.data() + have, space.size() - have), kAwait);
    if (ec || n == 0) {
      if (c.dial_expired)  // the handshake watch's deadline passed
        support.metrics.handshake_timed_out(front);
      else if (!c.aborted())
        support.metrics.handshake_closed(front);
      end = c.dial_expired ? pool::ConnectionEnd::handshake_failed
                           : pool::ConnectionEnd::client_reset;
      break;
    }
    have += n;
    std::size_t at = 0;
    for (;;) {
      const protocol::Step step = handshake.put(protocol::Bytes(space.data() + at, have - at));
      at += step.consumed;
      if (step.status == Status::need_more)
        break;
      if (step.status == Status::reply || step.status == Status::error) {
        const auto& out = handshake.output();
        auto [write_ec, written] =
            co_await asio::async_write(c.client, asio::buffer(out.data(), out.size()), kAwait);
        if (step.status == Status::error) {
          support.metrics.handshake_failed(front, handshake.failure());
          end = pool::ConnectionEnd::handshake_failed;
          break;
        }
        if (write_ec) {
          end = pool::ConnectionEnd::client_reset;
          break;
        }
        continue;
      }
      payload_at = at;  // done
      break;
    }
    if (end || payload_at != 0)
      break;
    std::memmove(space.data(), space.data() + at, have - at);
    have -= at;
  }
  handshake_watch_.unwatch(c);
  if (!end && c.aborted())
    end = c.aborted();

  EgressConnection through;
  if (!end) {
    support.metrics.handshake(front, handshake.protocol());
    const protocol::Destination& dest = handshake.destination();
    decision.destination = dest.to_string();
    decision.username = handshake.credentials().user;
    // A refusal (the client's cap included) is answered below in the client's protocol.
    through = co_await dial(c, peer, acceptor, front, dest, decision);
    if (c.aborted()) {
      end = c.aborted();
      if (through.connected)
        release(through.egress);
    } else if (through.connected) {
      // The reply, the upstream's early tunnel bytes, and (absolute-URI) the request head.
      std::vector<std::byte> to_client = handshake.success(through.bound);
      to_client.insert(to_client.end(), through.early.begin(), through.early.end());
      boost::system::error_code write_ec;
      if (!to_client.empty()) {
        auto [ec, n] = co_await asio::async_write(
            c.client, asio::buffer(to_client.data(), to_client.size()), kAwait);
        write_ec = ec;
      }
      if (const auto* http = handshake.as<protocol::HttpRequest>();
          !write_ec && http != nullptr && !http->is_connect()) {
        const std::string& head = http->forward_head();
        auto [ec, n] = co_await asio::async_write(c.egress, asio::buffer(head), kAwait);
        write_ec = ec;
      }
      if (write_ec && !c.aborted())
        c.abort(pool::ConnectionEnd::client_reset);
      if (c.aborted()) {
        end = c.aborted();
        release(through.egress);
      }
    }
  }

  if (!end && !through.connected) {
    support.metrics.refused(front, through.refusal);
    const auto reply = handshake.refusal(through.refusal, through.socks5_code);
    co_await asio::async_write(c.client, asio::buffer(reply.data(), reply.size()), kAwait);
    if (!c.aborted())
      close_politely(c);
    end = through.failed_end();
  } else if (!end) {
    // Bytes the client sent after its request go first, as the tcp front end's first bytes.
    if (have > payload_at) {
      std::memmove(space.data(), space.data() + payload_at, have - payload_at);
      c.first_bytes = std::move(buffer);
      c.first_size = have - payload_at;
      c.first_sent = 0;
    }
    end = co_await relay_and_count(c, decision);
  } else if (!c.aborted() && end == pool::ConnectionEnd::handshake_failed) {
    close_politely(c);  // after the error reply: a close with unread bytes would reset it
  }
  record_end(std::move(decision), accepted, *end);
}

asio::awaitable<EgressConnection> Worker::dial(Connection& c, const tcp::endpoint& peer,
                                               const Acceptor& acceptor, config::FrontEnd front,
                                               const protocol::Destination& dest,
                                               pool::Decision& decision) {
  EgressConnection through;
  pool::Request request;
  request.client = decision.client;
  request.username = decision.username;
  const std::string key = clients::sticky_key(acceptor.spec.sticky, {.client = decision.client,
                                                                     .username = decision.username,
                                                                     .egress_key = {},
                                                                     .destination = dest.host});
  request.key = key;  // sticky sessions
  if (!admit(c, peer, front))
    through.refusal = Refusal::client_limit;
  else
    through = co_await shared_.front->connector.connect(c, dial_watch_, dest, request, front);
  decision.egress = through.egress;
  decision.tries = through.tries;
  decision.dial_time = through.dial_time;
  co_return through;
}

void Worker::release(const pool::Egress& egress) {
  shared_.source.opened(egress);  // as a relay's start and end would
  shared_.source.closed(egress);
}

}  // namespace ipm::proxy
