#pragma once

#include <iosfwd>
#include <span>
#include <string_view>

namespace ipm::app {

/// `ipmanager firewall print [--iptables] [dispatch's gateway flags]`: the nftables table
/// that `dispatch -gateway -auto-config` installs for the same flags (or, with --iptables, the
/// same rules as iptables-restore input), for operators who keep their firewall themselves.
/// Egress arguments are accepted and ignored; -gateway is implied. Returns the exit code (2 on
/// a bad command line).
int firewall_main(std::span<const std::string_view> args, std::ostream& out, std::ostream& err);

}  // namespace ipm::app
