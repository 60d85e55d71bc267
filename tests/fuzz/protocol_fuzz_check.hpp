#pragma once

// One check shared by the libFuzzer targets and the bounded gtest: every codec of
// proxy/protocol takes `input` whole and byte by byte and must reach the same end with the
// same result, consume no more than it was given, and never crash.

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

#include "proxy/protocol/dns_message.hpp"
#include "proxy/protocol/egress_host.hpp"
#include "proxy/protocol/http_request.hpp"
#include "proxy/protocol/socks4_server.hpp"
#include "proxy/protocol/socks5_server.hpp"
#include "proxy/protocol/upstream_client.hpp"

namespace ipm::protocol::fuzz {

struct End {
  Status status = Status::need_more;
  std::size_t consumed = 0;
  std::vector<std::byte> output;
};

template <class Codec>
End run(Codec& codec, std::span<const std::byte> input, std::size_t slice) {
  End end;
  std::size_t at = 0;
  std::size_t available = 0;
  for (int guard = 0; guard < 1'000'000; ++guard) {
    available = std::min(input.size(), std::max(available, at) + slice);
    const Step s = codec.put(input.subspan(at, available - at));
    if (s.consumed > available - at)
      std::abort();  // consumed more than it was given
    at += s.consumed;
    if (s.status == Status::reply)
      continue;
    if (s.status != Status::need_more || available == input.size()) {
      end.status = s.status;
      end.consumed = at;
      end.output = codec.output();
      return end;
    }
  }
  std::abort();  // no progress
}

template <class Make>
void same_end_in_any_slicing(Make make, std::span<const std::byte> input) {
  auto whole = make();
  auto bytewise = make();
  const End a = run(whole, input, input.size() + 1);
  const End b = run(bytewise, input, 1);
  // A codec that buffers (HTTP) may only see the end of its head with more bytes: the
  // outcome must match, the consumed count too when the handshake ended.
  if (a.status != b.status || a.output != b.output ||
      (a.status != Status::need_more && a.consumed != b.consumed) ||
      (a.status == Status::done && whole.destination() != bytewise.destination())) {
    std::fprintf(stderr, "codec disagrees with itself: status %d/%d consumed %zu/%zu\n",
                 static_cast<int>(a.status), static_cast<int>(b.status), a.consumed, b.consumed);
    std::abort();
  }
}

// The DNS forwarder's bits: a query read within the input, its error reply as long as the
// header and question, and the TCP reader reaching the same messages in any slicing.
inline void check_dns(std::span<const std::byte> input) {
  if (const auto q = dns::parse_query(input)) {
    if (q->question_end > input.size() || q->question_end < dns::kHeaderSize)
      std::abort();
    const auto reply = dns::error_reply(input, *q, dns::Rcode::server_failure);
    if (reply.size() != q->question_end || !dns::is_response_to(reply, q->id))
      std::abort();
  }
  const auto messages = [&](std::size_t slice) {
    dns::TcpReader reader;
    std::vector<std::vector<std::byte>> out;
    std::size_t at = 0;
    while (at < input.size()) {
      const auto part = input.subspan(at, std::min(slice, input.size() - at));
      const Step s = reader.put(part);
      if (s.consumed > part.size() || (s.consumed == 0 && s.status == Status::need_more))
        std::abort();
      at += s.consumed;
      if (s.status == Status::error)
        break;
      if (s.status == Status::done)
        out.push_back(reader.message());
    }
    return out;
  };
  if (messages(input.size() + 1) != messages(1))
    std::abort();
}

inline void check_all(std::span<const std::byte> input) {
  check_dns(input);
  const CredentialCheck check = [](std::string_view u, std::string_view p) {
    return u == "u" && p == "p";
  };
  same_end_in_any_slicing([] { return Socks5Server(); }, input);
  same_end_in_any_slicing([&] { return Socks5Server(check); }, input);
  same_end_in_any_slicing([] { return Socks4Server(); }, input);
  same_end_in_any_slicing([] { return HttpRequest(CredentialCheck{}, 512); }, input);
  same_end_in_any_slicing([&] { return HttpRequest(check); }, input);

  const Destination to = Destination::ipv4({127, 0, 0, 1}, 80);
  auto client_end = [&](auto make) {
    auto whole = make();
    auto bytewise = make();
    const End a = run(whole, input, input.size() + 1);
    const End b = run(bytewise, input, 1);
    if (a.status != b.status || a.output != b.output ||
        (a.status != Status::need_more && a.consumed != b.consumed) ||
        whole.reply_code() != bytewise.reply_code())
      std::abort();
  };
  client_end([&] { return Socks5Client(to, Credentials{"u", "p", true}); });
  client_end([&] { return Socks4Client(to, "u"); });
  client_end([&] { return HttpConnectClient(to, std::nullopt); });

  // The tcp front end's target among the first bytes: a view into the input, and every
  // prefix answers nothing, the same, or a header whose line the prefix already holds whole.
  const std::string_view text(reinterpret_cast<const char*>(input.data()), input.size());
  const std::string_view host = egress_host_in_first_bytes(text);
  if (!host.empty() &&
      (host.data() < text.data() || host.data() + host.size() > text.data() + text.size()))
    std::abort();
  const std::string_view half = egress_host_in_first_bytes(text.substr(0, text.size() / 2));
  if (!half.empty() &&
      (half.data() < text.data() || half.data() + half.size() > text.data() + text.size() / 2))
    std::abort();
  // X-Egress-Key: a view into the input too, read beside the same target.
  const EgressHeaders headers = egress_headers_in_first_bytes(text);
  if (headers.target != host || (!headers.key.empty() && (headers.key.data() < text.data() ||
                                                          headers.key.data() + headers.key.size() >
                                                              text.data() + text.size())))
    std::abort();
}

}  // namespace ipm::protocol::fuzz
