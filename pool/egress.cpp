#include "pool/egress.hpp"

namespace ipm::pool {

std::string to_string(const Egress& e) {
  if (e.kind != EgressKind::nginx)
    return e.ip;
  return e.ip + ":" + std::to_string(e.port);
}

bool can_serve(const Egress& e, const Request& r) {
  return can_serve(e.kind, e.family, r);
}

bool can_serve(EgressKind kind, Family family, const Request& r) {
  if ((r.kinds & Request::kind_bit(kind)) == 0)
    return false;
  // A destination reachable over either family can take any egress; one of a single
  // family needs an egress of that family (or one that takes both).
  return family == Family::any || r.family == Family::any || family == r.family;
}

}  // namespace ipm::pool
