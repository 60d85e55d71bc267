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

Blame blame_of_reply(config::UpstreamProtocol protocol, int code) {
  bool site = false;
  switch (protocol) {
    case config::UpstreamProtocol::socks5:
      site = code == 0x02 || code == 0x04 || code == 0x05 || code == 0x06;
      break;
    case config::UpstreamProtocol::socks4:
      site = code == 0x5B;
      break;
    case config::UpstreamProtocol::http:
      site = code == 403 || code == 502 || code == 503 || code == 504;
      break;
  }
  return site ? Blame::site : Blame::egress;
}

Outcome classify(const pool::DialOutcome& d) {
  if (d.kind == pool::EgressKind::nginx)
    return d.result == pool::DialResult::ok ? Outcome::neutral : Outcome::failure;
  return d.result == pool::DialResult::ok ? Outcome::success : Outcome::failure;
}

Blame blame(const pool::DialOutcome& d) {
  // A check's destination is the operator's known-good target: whatever fails is the egress.
  if (d.check || d.kind == pool::EgressKind::nginx)
    return Blame::egress;
  switch (d.result) {
    case pool::DialResult::refused:
      // A source's connect goes to the destination; an upstream's to the upstream itself.
      return d.kind == pool::EgressKind::source ? Blame::site : Blame::egress;
    case pool::DialResult::upstream_refused:
      return blame_of_reply(d.protocol, d.upstream_code);
    case pool::DialResult::ok:
    case pool::DialResult::timeout:
    case pool::DialResult::unreachable:
    case pool::DialResult::other_error:
    case pool::DialResult::bind_failed:
    case pool::DialResult::upstream_error:
      break;
  }
  return Blame::egress;
}

}  // namespace ipm::strategy
