#pragma once

// The few bits of DNS (RFC 1035) the gateway's forwarder needs: it relays messages whole and
// reads only the header and the question, to swap the message id, to answer a query it cannot
// relay with the protocol's own error, and to frame messages over TCP (a 2-byte length).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "proxy/protocol/step.hpp"

namespace ipm::protocol::dns {

inline constexpr std::size_t kHeaderSize = 12;
inline constexpr std::size_t kMaxMessage = 65535;  ///< what a TCP length prefix can say

/// Response codes the forwarder answers with.
enum class Rcode : std::uint8_t { format_error = 1, server_failure = 2, refused = 5 };

/// A query's header, as far as relaying it needs.
struct Query {
  std::uint16_t id = 0;
  std::size_t question_end = 0;  ///< header and the one question: what an error reply echoes
};

/// The query in `message`: a standard query (QR 0, opcode 0) with one question whose name's
/// labels and type/class lie inside the message. nullopt for anything else (a response, a
/// truncated header, a name that runs past the end or is compressed).
std::optional<Query> parse_query(std::span<const std::byte> message);

/// The message id (the first two bytes); 0 when the message is shorter.
std::uint16_t message_id(std::span<const std::byte> message);
/// Writes `id` into the message's first two bytes (no-op when it is shorter).
void set_message_id(std::span<std::byte> message, std::uint16_t id);

/// Whether `message` is a response (QR 1) with id `id`: what the forwarder accepts from an
/// upstream for the query it sent.
bool is_response_to(std::span<const std::byte> message, std::uint16_t id);

/// The reply that refuses `query` with `rcode`: its header (id and RD kept, QR and RA set,
/// one question) and its question, no records.
std::vector<std::byte> error_reply(std::span<const std::byte> message, const Query& query,
                                   Rcode rcode);

/// `message` with its TCP length prefix (RFC 1035 4.2.2). `message` is at most kMaxMessage.
std::vector<std::byte> tcp_frame(std::span<const std::byte> message);

/// Reads length-prefixed messages from a TCP stream, incrementally. put() consumes bytes
/// until one message is complete (done: message() holds it; call put() again with the bytes
/// not consumed for the next) or a zero length (error). Memory: one message at most.
class TcpReader {
 public:
  Step put(std::span<const std::byte> in);
  const std::vector<std::byte>& message() const { return message_; }

 private:
  std::uint8_t prefix_[2] = {};
  std::size_t prefix_have_ = 0;
  std::size_t length_ = 0;
  bool done_ = false;
  std::vector<std::byte> message_;
};

}  // namespace ipm::protocol::dns
