#include "proxy/protocol/replies.hpp"

#include <string>

#include "proxy/protocol/socks5_server.hpp"
#include "proxy/protocol/wire.hpp"

namespace ipm::protocol {

FrontProtocol detect(std::byte first) {
  const auto b = u8(first);
  if (b == 5)
    return FrontProtocol::socks5;
  if (b == 4)
    return FrontProtocol::socks4;
  if (b >= 'A' && b <= 'Z')  // an HTTP method
    return FrontProtocol::http;
  return FrontProtocol::unknown;
}

std::string_view to_string(FrontProtocol p) {
  switch (p) {
    case FrontProtocol::socks5:
      return "socks5";
    case FrontProtocol::socks4:
      return "socks4";
    case FrontProtocol::http:
      return "http";
    case FrontProtocol::unknown:
      break;
  }
  return "unknown";
}

std::string_view to_string(Refusal r) {
  switch (r) {
    case Refusal::not_allowed:
      return "not_allowed";
    case Refusal::no_egress:
      return "no_egress";
    case Refusal::dns_failed:
      return "dns_failed";
    case Refusal::refused:
      return "refused";
    case Refusal::unreachable:
      return "unreachable";
    case Refusal::timeout:
      return "timeout";
    case Refusal::failed:
      return "failed";
    case Refusal::address_mismatch:
      return "address_mismatch";
    case Refusal::client_limit:
      return "client_limit";
    case Refusal::loop:
      return "loop";
    case Refusal::no_original_destination:
      return "no_original_destination";
  }
  return "failed";
}

std::uint8_t socks5_code(Refusal r) {
  switch (r) {
    case Refusal::not_allowed:
    case Refusal::client_limit:  // "connection not allowed by ruleset": the cap is a rule
    case Refusal::loop:          // the redirect front end's: it answers nothing
    case Refusal::no_original_destination:
      return socks5::kNotAllowed;
    case Refusal::no_egress:
      return socks5::kGeneralFailure;
    case Refusal::dns_failed:
    case Refusal::timeout:
    case Refusal::unreachable:
      return socks5::kHostUnreachable;
    case Refusal::refused:
      return socks5::kConnectionRefused;
    case Refusal::failed:
      return socks5::kGeneralFailure;
    case Refusal::address_mismatch:
      return socks5::kAddressTypeNotSupported;
  }
  return socks5::kGeneralFailure;
}

int http_status(Refusal r) {
  switch (r) {
    case Refusal::not_allowed:
    case Refusal::loop:
    case Refusal::no_original_destination:
      return 403;
    case Refusal::client_limit:
      return 429;
    case Refusal::no_egress:
      return 503;
    case Refusal::timeout:
      return 504;
    case Refusal::dns_failed:
    case Refusal::refused:
    case Refusal::unreachable:
    case Refusal::failed:
    case Refusal::address_mismatch:
      return 502;
  }
  return 502;
}

namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "Connection established";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 407:
      return "Proxy Authentication Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Error";
  }
}

}  // namespace

std::vector<std::byte> http_response(int status) {
  std::string head =
      "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason_phrase(status)) + "\r\n";
  if (status == 407)
    head += "Proxy-Authenticate: Basic realm=\"ipmanager\"\r\n";
  head += "Content-Length: 0\r\nConnection: close\r\n\r\n";
  std::vector<std::byte> out;
  append(out, head);
  return out;
}

std::vector<std::byte> http_connect_established() {
  std::vector<std::byte> out;
  append(out, "HTTP/1.1 200 Connection established\r\n\r\n");
  return out;
}

}  // namespace ipm::protocol
