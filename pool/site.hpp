#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "config/config.hpp"
#include "pool/site_name.hpp"

struct psl_ctx_st;

namespace ipm::pool {

/// The host a target text names, the way health per target compares hosts: lowercase, without
/// port, brackets, userinfo, path or trailing dot ("WWW.A.Example:443" -> "www.a.example",
/// "[::1]:80" -> "::1"). Empty when the text names no host (empty, "-", a byte a host cannot
/// hold, longer than 253 bytes). Pure; table-tested.
std::string normalize_host(std::string_view target);

/// Whether `host` (normalized) is an IPv4 or IPv6 literal.
bool is_ip_literal(std::string_view host);

/// Maps a target (a Host header, X-Egress-Host, a SOCKS or CONNECT destination) to the site
/// health is kept for, by config `target_grouping`:
///   site: the registrable domain, by the Public Suffix List (libpsl; Debian's `publicsuffix`
///         list when installed, else the list built into libpsl): "x.a.example.co.uk" ->
///         "example.co.uk". A host that is itself a public suffix is its own site;
///   host: the normalized host;
///   none: always empty (health per egress only).
/// An IP literal is its own site. Thread-safe and immutable: one grouper serves every thread.
class SiteGrouper {
 public:
  explicit SiteGrouper(config::TargetGrouping grouping);
  SiteGrouper(const SiteGrouper&) = delete;
  SiteGrouper& operator=(const SiteGrouper&) = delete;
  ~SiteGrouper();

  /// The site of `target`; empty when it names none (or grouping is none).
  std::string site_of(std::string_view target) const { return grouped(target).site; }

  /// A site with its SiteName hash (the per-thread cache keeps both).
  struct Grouped {
    std::string site;
    std::uint64_t hash = SiteName::hash_of({});
    /// A view of the site for a Request, valid while this Grouped lives.
    SiteName name() const { return SiteName::prehashed(site, hash); }
  };
  /// site_of() and the hash of its answer.
  Grouped grouped(std::string_view target) const;

  config::TargetGrouping grouping() const { return grouping_; }
  /// Where the suffix list came from: a file path, "built-in", or "" (none: hosts as sites).
  const std::string& list_source() const { return list_source_; }

 private:
  std::string group(std::string_view target) const;  // site_of without the cache

  config::TargetGrouping grouping_;
  std::uint64_t id_;  ///< unique per grouper: keys its entries of the per-thread cache
  psl_ctx_st* psl_ = nullptr;
  std::string list_source_;
};

}  // namespace ipm::pool
