#include "strategy/outcome.hpp"

namespace ipm::strategy {

namespace {
constexpr int kClientClosedRequest = 499;  // nginx: the client went away first
}

int judged_status(const pool::LogEvent& e) {
  if (e.status == kClientClosedRequest)
    return kClientClosedRequest;
  return e.upstream_status > 0 ? e.upstream_status : e.status;
}

Outcome classify(const pool::LogEvent& e, const config::StatusSet& failures) {
  const int status = judged_status(e);
  if (status == kClientClosedRequest)
    return Outcome::neutral;
  if (failures.contains(status))
    return Outcome::failure;
  if (status >= 100 && status < 400)
    return Outcome::success;
  return Outcome::neutral;
}

bool destination_refusal(config::UpstreamProtocol protocol, int code) {
  switch (protocol) {
    case config::UpstreamProtocol::socks5:
      return code == 0x02 || code == 0x04 || code == 0x05;
    case config::UpstreamProtocol::socks4:
      return code == 91;
    case config::UpstreamProtocol::http:
      return code == 502 || code == 504;
  }
  return false;
}

Outcome classify(const pool::DialOutcome& d) {
  using pool::DialResult;
  if (d.kind == pool::EgressKind::nginx)
    return d.result == DialResult::ok ? Outcome::neutral : Outcome::failure;
  if (d.check)
    return d.result == DialResult::ok ? Outcome::success : Outcome::failure;
  switch (d.result) {
    case DialResult::ok:
      return Outcome::success;
    case DialResult::refused:
      // A source's connect goes to the destination; an upstream's to the upstream itself.
      return d.kind == pool::EgressKind::source ? Outcome::neutral : Outcome::failure;
    case DialResult::upstream_refused:
      return destination_refusal(d.protocol, d.upstream_code) ? Outcome::neutral : Outcome::failure;
    case DialResult::timeout:
    case DialResult::unreachable:
    case DialResult::other_error:
    case DialResult::bind_failed:
    case DialResult::upstream_error:
      break;
  }
  return Outcome::failure;
}

}  // namespace ipm::strategy
