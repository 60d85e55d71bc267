#include "proxy/protocol/http_request.hpp"

#include <algorithm>
#include <cctype>

#include "proxy/protocol/base64.hpp"
#include "proxy/protocol/replies.hpp"
#include "proxy/protocol/wire.hpp"

namespace ipm::protocol {
namespace {

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_token_char);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Headers that describe the client's hop to the proxy and never go to the origin.
bool is_proxy_hop_header(std::string_view name) {
  for (const std::string_view h :
       {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "host"}) {
    if (iequals(name, h))
      return true;
  }
  return false;
}

}  // namespace

HttpRequest::HttpRequest(CredentialCheck check, std::size_t max_head)
    : check_(std::move(check)), max_head_(max_head) {}

Step HttpRequest::fail(Failure why, int status, std::size_t consumed) {
  failure_ = why;
  status_ = status;
  output_ = http_response(status);
  finished_ = true;
  return {consumed, Status::error};
}

Step HttpRequest::put(Bytes in) {
  if (finished_)
    return {0, Status::done};
  const std::size_t before = head_.size();
  head_.append(reinterpret_cast<const char*>(in.data()), in.size());
  // The blank line may straddle two reads: look again from just before the new bytes.
  const std::size_t from = before >= 3 ? before - 3 : 0;
  std::size_t end = std::string::npos;
  if (const auto crlf = head_.find("\r\n\r\n", from); crlf != std::string::npos)
    end = crlf + 4;
  if (const auto lf = head_.find("\n\n", from); lf != std::string::npos && lf + 2 < end)
    end = lf + 2;
  if (end == std::string::npos || end > max_head_) {
    // Counted as if the bytes had come one by one: the limit is crossed at max_head + 1.
    if (head_.size() > max_head_ || end != std::string::npos)
      return fail(Failure::too_large, 431, max_head_ + 1 - std::min(before, max_head_));
    return {in.size(), Status::need_more};
  }
  head_.resize(end);
  return parse_head(end - before);
}

bool HttpRequest::parse_target(std::string_view target) {
  if (connect_) {
    auto d = parse_authority(target);
    if (!d)
      return false;
    destination_ = std::move(*d);
    return true;
  }
  constexpr std::string_view kScheme = "http://";
  if (!istarts_with(target, kScheme))
    return false;
  target.remove_prefix(kScheme.size());
  const auto path_at = target.find_first_of("/?#");
  const std::string_view authority = target.substr(0, path_at);
  if (authority.find('@') != std::string_view::npos)
    return false;  // credentials in the URI: never forwarded
  auto d = parse_authority(authority, 80);
  if (!d)
    return false;
  destination_ = std::move(*d);
  std::string_view path =
      path_at == std::string_view::npos ? std::string_view{} : target.substr(path_at);
  if (const auto fragment = path.find('#'); fragment != std::string_view::npos)
    path = path.substr(0, fragment);
  origin_target_ =
      path.empty() || path.front() != '/' ? "/" + std::string(path) : std::string(path);
  return true;
}

Step HttpRequest::parse_head(std::size_t consumed) {
  std::string_view head(head_);
  auto next_line = [&head]() {
    const auto lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    head.remove_prefix(lf == std::string_view::npos ? head.size() : lf + 1);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    return line;
  };

  const std::string_view request_line = next_line();
  const auto sp1 = request_line.find(' ');
  const auto sp2 = request_line.find(' ', sp1 == std::string_view::npos ? sp1 : sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      request_line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(Failure::malformed, 400, consumed);
  const std::string_view method = request_line.substr(0, sp1);
  const std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = request_line.substr(sp2 + 1);
  if (!is_token(method) || target.empty())
    return fail(Failure::malformed, 400, consumed);
  if (version != "HTTP/1.1" && version != "HTTP/1.0") {
    return version.starts_with("HTTP/") ? fail(Failure::bad_version, 505, consumed)
                                        : fail(Failure::malformed, 400, consumed);
  }
  method_ = std::string(method);
  connect_ = method == "CONNECT";
  if (!parse_target(target)) {
    return fail(connect_ || istarts_with(target, "http://") ? Failure::malformed
                                                            : Failure::unsupported_command,
                400, consumed);
  }

  std::string kept;
  std::optional<std::string_view> authorization;
  for (std::string_view line = next_line(); !line.empty(); line = next_line()) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon)))
      return fail(Failure::malformed, 400, consumed);  // also obsolete line folding
    const std::string_view name = line.substr(0, colon);
    if (iequals(name, "proxy-authorization"))
      authorization = trim(line.substr(colon + 1));
    if (!is_proxy_hop_header(name)) {
      kept += line;
      kept += "\r\n";
    }
  }

  if (authorization) {
    constexpr std::string_view kBasic = "basic ";
    std::optional<std::string> decoded;
    if (istarts_with(*authorization, kBasic))
      decoded = base64_decode(trim(authorization->substr(kBasic.size())));
    const auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon != std::string::npos) {
      credentials_.user = decoded->substr(0, colon);
      credentials_.password = decoded->substr(colon + 1);
      credentials_.given = true;
    }
  }
  if (check_ && (!credentials_.given || !check_(credentials_.user, credentials_.password)))
    return fail(Failure::auth_failed, 407, consumed);

  if (!connect_) {
    forward_ = method_ + " " + origin_target_ + " " + std::string(version) + "\r\n";
    forward_ += "Host: " + destination_.host_for_uri();
    if (destination_.port != 80)
      forward_ += ":" + std::to_string(destination_.port);
    forward_ += "\r\n" + kept + "Connection: close\r\n\r\n";
  }
  finished_ = true;
  head_.clear();
  head_.shrink_to_fit();
  return {consumed, Status::done};
}

}  // namespace ipm::protocol
