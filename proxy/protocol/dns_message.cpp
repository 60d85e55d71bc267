#include "proxy/protocol/dns_message.hpp"

#include <algorithm>

#include "proxy/protocol/wire.hpp"

namespace ipm::protocol::dns {
namespace {

constexpr std::uint8_t kResponse = 0x80;    // QR, in the third byte
constexpr std::uint8_t kOpcodeMask = 0x78;  // opcode, third byte
constexpr std::uint8_t kRecursionDesired = 0x01;
constexpr std::uint8_t kRecursionAvailable = 0x80;  // fourth byte
constexpr std::size_t kMaxName = 255;               // RFC 1035 2.3.4

}  // namespace

std::optional<Query> parse_query(std::span<const std::byte> m) {
  if (m.size() < kHeaderSize)
    return std::nullopt;
  if ((u8(m[2]) & (kResponse | kOpcodeMask)) != 0)
    return std::nullopt;  // a response, or not a standard query
  if (be16(m.subspan(4, 2)) != 1)
    return std::nullopt;  // what resolvers send: exactly one question
  std::size_t at = kHeaderSize;
  std::size_t name = 0;
  for (;;) {
    if (at >= m.size())
      return std::nullopt;
    const std::uint8_t length = u8(m[at]);
    if (length == 0) {
      ++at;
      break;
    }
    if ((length & 0xC0) != 0)
      return std::nullopt;  // a pointer or a reserved label type: no query needs one
    name += length + 1U;
    if (name > kMaxName)
      return std::nullopt;
    at += 1U + length;
  }
  if (m.size() - at < 4)
    return std::nullopt;  // QTYPE and QCLASS
  return Query{be16(m.first(2)), at + 4};
}

std::uint16_t message_id(std::span<const std::byte> m) {
  return m.size() < 2 ? 0 : be16(m.first(2));
}

void set_message_id(std::span<std::byte> m, std::uint16_t id) {
  if (m.size() < 2)
    return;
  m[0] = static_cast<std::byte>(id >> 8);
  m[1] = static_cast<std::byte>(id & 0xFF);
}

bool is_response_to(std::span<const std::byte> m, std::uint16_t id) {
  return m.size() >= kHeaderSize && (u8(m[2]) & kResponse) != 0 && message_id(m) == id;
}

std::vector<std::byte> error_reply(std::span<const std::byte> m, const Query& q, Rcode rcode) {
  std::vector<std::byte> out(m.begin(), m.begin() + static_cast<long>(q.question_end));
  out[2] = static_cast<std::byte>(kResponse | (u8(m[2]) & kRecursionDesired));
  out[3] = static_cast<std::byte>(kRecursionAvailable | static_cast<std::uint8_t>(rcode));
  for (std::size_t i = 6; i < kHeaderSize; ++i)
    out[i] = std::byte{0};  // no answer, authority or additional records
  return out;
}

std::vector<std::byte> tcp_frame(std::span<const std::byte> message) {
  std::vector<std::byte> out;
  out.reserve(message.size() + 2);
  append_be16(out, static_cast<std::uint16_t>(message.size()));
  out.insert(out.end(), message.begin(), message.end());
  return out;
}

Step TcpReader::put(std::span<const std::byte> in) {
  if (done_) {  // the previous message was taken: start the next
    done_ = false;
    prefix_have_ = 0;
    message_.clear();
  }
  std::size_t used = 0;
  while (prefix_have_ < 2) {
    if (used == in.size())
      return {used, Status::need_more};
    prefix_[prefix_have_++] = u8(in[used++]);
    if (prefix_have_ == 2) {
      length_ = static_cast<std::size_t>((prefix_[0] << 8) | prefix_[1]);
      if (length_ == 0)
        return {used, Status::error};
      message_.reserve(length_);
    }
  }
  const std::size_t take = std::min(in.size() - used, length_ - message_.size());
  message_.insert(message_.end(), in.begin() + static_cast<long>(used),
                  in.begin() + static_cast<long>(used + take));
  used += take;
  if (message_.size() < length_)
    return {used, Status::need_more};
  done_ = true;
  return {used, Status::done};
}

}  // namespace ipm::protocol::dns
