#pragma once

#include <cstdint>
#include <string>

namespace ipm::pool {

/// One egress of the nginx pool: a request sent to `next:port` leaves the host from `ip`.
struct Egress {
  std::string ip;            ///< the `proxy_bind` address, textual form as nginx has it
  std::uint16_t port = 0;    ///< the `listen` port of its server block
  std::string server_name;   ///< the block's `server_name`, empty when it has none
  std::uint32_t weight = 1;  ///< relative share for the weighted policy; 1 unless configured

  friend bool operator==(const Egress&, const Egress&) = default;
};

/// "ip:port" for logs and messages.
std::string to_string(const Egress& e);

}  // namespace ipm::pool
