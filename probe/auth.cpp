#include "probe/auth.hpp"

namespace ipm::probe {

namespace {

// Compares without an early exit, so the time taken does not tell how much of a guess
// matched. The length still leaks, which a bearer token's format already reveals.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i]))
      return false;
  }
  return true;
}

Response unauthorized(std::string_view message, std::string_view challenge) {
  Response r = error_response(http::status::unauthorized, message);
  r.message.set(http::field::www_authenticate, challenge);
  return r;
}

}  // namespace

bool is_loopback(const boost::asio::ip::address& address) {
  if (address.is_v4())
    return address.to_v4().is_loopback();
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
  return v6.is_loopback();
}

std::optional<Response> refuse_mutation(const Request& request, std::string_view api_token) {
  if (api_token.empty()) {
    if (is_loopback(request.peer))
      return std::nullopt;
    return error_response(http::status::forbidden,
                          "mutating routes answer only loopback clients when api_token is unset");
  }
  const auto header = request.message.find(http::field::authorization);
  if (header == request.message.end())
    return unauthorized("this route needs Authorization: Bearer <api_token>", "Bearer");
  const std::string_view value = trim_ows(header->value());
  constexpr std::string_view kScheme = "Bearer ";
  if (value.size() < kScheme.size() || !iequals(value.substr(0, kScheme.size()), kScheme))
    return unauthorized("this route needs Authorization: Bearer <api_token>", "Bearer");
  if (!same_secret(trim_ows(value.substr(kScheme.size())), api_token))
    return unauthorized("invalid token", "Bearer error=\"invalid_token\"");
  return std::nullopt;
}

std::optional<Response> refuse(const Request& request, Access access,
                               const config::Config& config) {
  if (access == Access::open || (access == Access::read && !config.require_token_for_reads))
    return std::nullopt;
  return refuse_mutation(request, config.api_token);
}

}  // namespace ipm::probe
