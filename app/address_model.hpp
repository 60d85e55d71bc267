#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "app/netlink_messages.hpp"
#include "pool/egress.hpp"
#include "proxy/interfaces.hpp"

namespace ipm::app {

/// Which source egresses can leave the host now, from the host's addresses and links: a
/// source is present while its address is on an interface that is up and running (and, for a
/// source bound to an interface, on that interface); an address in 127.0.0.0/8 while an
/// interface that is up holds one of 127.0.0.0/8 (the loopback's whole /8 is local). Fed the host's
/// addresses once (getifaddrs) and then every rtnetlink change; each feed answers the sources whose
/// presence changed. Plain data, no socket: table-tested. Not thread-safe (one owner).
class AddressModel {
 public:
  /// `egresses`: the pool's; only the source ones are followed.
  explicit AddressModel(const std::vector<pool::Egress>& egresses);

  /// Starts over from a full listing (at start, and after the netlink socket lost events).
  /// `index_of` gives an interface's index by name (if_nametoindex; 0: unknown).
  std::vector<std::pair<std::string, bool>> reset(
      const std::vector<proxy::InterfaceAddress>& now,
      const std::function<std::uint32_t(const std::string&)>& index_of);

  /// One change from rtnetlink; the sources whose presence changed (id, present).
  std::vector<std::pair<std::string, bool>> apply(const NetlinkChange& change);

  /// Follows the source egresses of `egresses` from now on (a reload changed the pool): the
  /// sources that stay keep their presence, the new ones start present (as the engine adds
  /// them) and are judged against what the model knows; removed ones are no longer followed.
  /// Answers the sources whose presence changed: the new ones that are absent now.
  std::vector<std::pair<std::string, bool>> follow(const std::vector<pool::Egress>& egresses);

  /// Whether the source `id` can leave the host now (true for ids the model does not follow).
  bool present(const std::string& id) const;
  /// The ids of the sources followed.
  std::vector<std::string> followed() const;

 private:
  struct Source {
    std::string id;
    std::string address;    // normalized text
    std::string interface;  // empty: any
    bool present = true;
  };
  struct Link {
    std::string name;
    bool up = true;  // a link the model has heard no state of is taken as up
  };

  static std::string normal(const std::string& address);
  static std::vector<Source> sources_of(const std::vector<pool::Egress>& egresses);
  bool computes_present(const Source& s) const;
  bool on_up_link(const std::set<std::uint32_t>& indices, const Source& s) const;
  std::vector<std::pair<std::string, bool>> changes();

  std::vector<Source> sources_;
  std::map<std::uint32_t, Link> links_;                       // by interface index
  std::map<std::string, std::set<std::uint32_t>> addresses_;  // address -> interfaces holding it
};

}  // namespace ipm::app
