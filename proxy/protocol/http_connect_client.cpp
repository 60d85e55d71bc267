#include <algorithm>

#include "proxy/protocol/base64.hpp"
#include "proxy/protocol/upstream_client.hpp"
#include "proxy/protocol/wire.hpp"

namespace ipm::protocol {
namespace {

constexpr std::size_t kMaxResponseHead = 16 * 1024;

}  // namespace

HttpConnectClient::HttpConnectClient(const Destination& destination,
                                     std::optional<Credentials> credentials) {
  const std::string authority = destination.to_string();
  std::string head = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (credentials)
    head += "Proxy-Authorization: Basic " +
            base64_encode(credentials->user + ":" + credentials->password) + "\r\n";
  head += "\r\n";
  append(output_, head);
}

Step HttpConnectClient::put(Bytes in) {
  if (finished_)
    return {0, Status::done};
  const std::size_t before = head_.size();
  head_.append(reinterpret_cast<const char*>(in.data()), in.size());
  const std::size_t from = before >= 3 ? before - 3 : 0;
  std::size_t end = std::string::npos;
  if (const auto crlf = head_.find("\r\n\r\n", from); crlf != std::string::npos)
    end = crlf + 4;
  if (const auto lf = head_.find("\n\n", from); lf != std::string::npos && lf + 2 < end)
    end = lf + 2;
  if (end == std::string::npos || end > kMaxResponseHead) {
    if (head_.size() > kMaxResponseHead || end != std::string::npos) {
      finished_ = true;
      return fail(Failure::too_large, kMaxResponseHead + 1 - std::min(before, kMaxResponseHead));
    }
    return {in.size(), Status::need_more};
  }
  finished_ = true;
  const std::size_t consumed = end - before;
  // "HTTP/1.x SSS reason"
  std::string_view line = std::string_view(head_).substr(0, head_.find('\n'));
  if (line.ends_with('\r'))
    line.remove_suffix(1);
  if (!line.starts_with("HTTP/1."))
    return fail(Failure::bad_version, consumed);
  if (line.size() < 12 || line[8] != ' ')
    return fail(Failure::malformed, consumed);
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9')
      return fail(Failure::malformed, consumed);
    status = status * 10 + (line[i] - '0');
  }
  if (line.size() > 12 && line[12] != ' ')
    return fail(Failure::malformed, consumed);
  if (status < 200 || status > 299)
    return fail(status == 407 ? Failure::auth_failed : Failure::refused, consumed, status);
  reply_code_ = status;
  output_.clear();
  head_.clear();
  return {consumed, Status::done};
}

}  // namespace ipm::protocol
