#include "pool/egress.hpp"

namespace ipm::pool {

std::string to_string(const Egress& e) {
  return e.ip + ":" + std::to_string(e.port);
}

}  // namespace ipm::pool
