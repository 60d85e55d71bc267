#pragma once

#include <string>

#include "gateway/firewall_rules.hpp"

struct nft_ctx;

namespace ipm::gateway {

/// The gateway's own nftables table in the current network namespace, through libnftables
/// (the library the nft program is built on: one transaction per script, and its error text
/// without parsing a child's output). install() replaces a leftover table atomically; the
/// destructor removes the table it installed, so a failed start or a normal exit leave none.
/// Not thread-safe.
class NftTable {
 public:
  NftTable();
  ~NftTable();
  NftTable(const NftTable&) = delete;
  NftTable& operator=(const NftTable&) = delete;

  /// Installs (or replaces) `table inet ipmanager`. Throws std::runtime_error with nft's own
  /// message (e.g. "Operation not permitted" without CAP_NET_ADMIN).
  void install(const FirewallPlan& plan);
  /// Removes the table if it is there. Throws std::runtime_error with nft's message.
  void remove();
  bool installed() const { return installed_; }

  /// `list ruleset` in this namespace, as nft prints it (tests, and `firewall print`).
  std::string ruleset();

 private:
  std::string run(const std::string& script);

  nft_ctx* ctx_;
  bool installed_ = false;
};

}  // namespace ipm::gateway
