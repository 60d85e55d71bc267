#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "clients/client_address.hpp"
#include "config/cidr.hpp"

namespace ipm::clients {

/// One rule of the enhanced go-dispatch-proxy's source_ip_rules.json: the clients of `block`
/// weigh `ratio` on one egress (0: they never use it).
struct SourceIpRule {
  config::Cidr block;
  std::string block_text;  ///< as the file wrote it ("10.0.0.0/24", "192.168.0.100")
  std::uint32_t ratio = 1;
  std::string description;
};

/// The rules of one egress, longest prefix first (a host rule before its subnet's).
struct EgressRules {
  std::string egress;  ///< the egress id, as egress_id() normalises it
  std::vector<SourceIpRule> rules;
};

/// An egress key of the file, normalised: "192.168.1.10:0" and "192.168.1.10" (a source
/// address; port 0 is the fork's way to write one) give "192.168.1.10", "[::1]:0" gives
/// "::1", "Proxy.Example:1080" (an upstream) gives "proxy.example:1080". nullopt when the key
/// is none of these.
std::optional<std::string> egress_id(std::string_view key);

/// Per-client weights of the egresses, read from the enhanced fork's JSON unchanged:
///   { "<egress>": { "<client IP or CIDR>": { "source_ip": ..., "contention_ratio": N,
///                                            "description": ... }, ... }, ... }
/// The longest matching prefix wins (the fork's own lookup is an exact match on the client
/// IP, so its README's CIDR rules never applied). Immutable once built: share it freely.
class SourceIpRules {
 public:
  SourceIpRules() = default;

  /// Parses the file's text. Throws std::invalid_argument naming the entry and the problem
  /// (`["10.0.0.1:0"]["10.0.0.0/33"]: ...`).
  static SourceIpRules parse(std::string_view json);
  /// Reads and parses `path`; the message of what it throws starts with the path.
  static SourceIpRules load(const std::string& path);

  /// The rule that decides `client`'s weight on `egress`: the longest prefix among those that
  /// contain it; nullptr when no rule of that egress names the client.
  const SourceIpRule* match(std::string_view egress, const ClientAddress& client) const;
  /// Whether any rule of any egress names `client` (it then rotates with its own weights).
  bool names(const ClientAddress& client) const;

  const std::vector<EgressRules>& egresses() const { return egresses_; }
  std::size_t rule_count() const;
  bool empty() const { return egresses_.empty(); }

 private:
  std::vector<EgressRules> egresses_;
};

}  // namespace ipm::clients
