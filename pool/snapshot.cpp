#include "pool/snapshot.hpp"

#include <algorithm>

namespace ipm::pool {

std::size_t Snapshot::selectable_count() const {
  return static_cast<std::size_t>(
      std::count_if(ips.begin(), ips.end(), [](const SnapshotEntry& e) { return e.selectable; }));
}

std::ptrdiff_t Snapshot::find(std::string_view ip) const {
  for (std::size_t i = 0; i < ips.size(); ++i) {
    if (ips[i].egress.ip == ip)
      return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

}  // namespace ipm::pool
