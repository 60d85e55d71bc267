#pragma once

#include <optional>
#include <string>

#include "config/config.hpp"
#include "gateway/nft_table.hpp"

namespace ipm::app {

/// Whether the process holds CAP_NET_ADMIN in its effective set (capget(2)).
bool has_net_admin();

/// Gateway mode's nftables table for the life of the process: with gateway_auto_config, the
/// constructor checks CAP_NET_ADMIN and installs `table inet ipmanager` for the config's plan
/// (replacing a leftover of a crash); the destructor removes it, so a normal exit, SIGTERM
/// and a start that fails after it (the stack unwinds) leave none. Without
/// gateway_auto_config it does nothing. Throws std::runtime_error naming the capability, or
/// with nftables' own message. Not thread-safe.
class GatewayFirewall {
 public:
  explicit GatewayFirewall(const config::Config& c);
  GatewayFirewall(const GatewayFirewall&) = delete;
  GatewayFirewall& operator=(const GatewayFirewall&) = delete;

  bool installed() const { return table_ && table_->installed(); }
  /// For the startup log: what was installed.
  std::string describe() const { return description_; }

 private:
  std::optional<gateway::NftTable> table_;
  std::string description_;
};

}  // namespace ipm::app
