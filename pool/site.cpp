#include "pool/site.hpp"

#include <arpa/inet.h>
#include <libpsl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>

namespace ipm::pool {
namespace {

constexpr std::size_t kMaxHostLength = 253;  // RFC 1035, without the trailing dot

bool host_byte(unsigned char c) {
  // Letters, digits, '-', '.', '_' (seen in real names) and UTF-8 bytes of an unencoded IDN.
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
         c >= 0x80;
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

bool is_ip_literal(std::string_view host) {
  if (host.empty() || host.size() > 45)
    return false;
  std::array<char, 46> text{};
  std::copy(host.begin(), host.end(), text.begin());
  unsigned char buf[16];
  return inet_pton(AF_INET, text.data(), buf) == 1 || inet_pton(AF_INET6, text.data(), buf) == 1;
}

std::string normalize_host(std::string_view target) {
  std::string_view s = trim(target);
  if (s == "-")
    return {};
  if (const auto scheme = s.find("://"); scheme != std::string_view::npos)
    s.remove_prefix(scheme + 3);
  if (const auto path = s.find_first_of("/?#"); path != std::string_view::npos)
    s = s.substr(0, path);
  if (const auto at = s.rfind('@'); at != std::string_view::npos)
    s.remove_prefix(at + 1);
  std::string_view host = s;
  if (!s.empty() && s.front() == '[') {  // [v6] or [v6]:port
    const auto close = s.find(']');
    if (close == std::string_view::npos)
      return {};
    host = s.substr(1, close - 1);
    const std::string_view rest = s.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && all_digits(rest.substr(1))))
      return {};
  } else if (const auto colon = s.find(':'); colon != std::string_view::npos) {
    if (s.find(':', colon + 1) == std::string_view::npos) {  // host:port
      if (!all_digits(s.substr(colon + 1)))
        return {};
      host = s.substr(0, colon);
    }  // else a bare IPv6 literal
  }
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (out.find(':') != std::string::npos)  // IPv6: only a valid literal is a host
    return is_ip_literal(out) ? out : std::string();
  while (!out.empty() && out.back() == '.')
    out.pop_back();
  if (out.empty() || out.size() > kMaxHostLength || out.front() == '.' ||
      out.find("..") != std::string::npos)
    return {};
  if (!std::all_of(out.begin(), out.end(),
                   [](char c) { return host_byte(static_cast<unsigned char>(c)); }))
    return {};
  return out;
}

namespace {
std::atomic<std::uint64_t> next_grouper_id{1};
}  // namespace

SiteGrouper::SiteGrouper(config::TargetGrouping grouping)
    : grouping_(grouping), id_(next_grouper_id.fetch_add(1, std::memory_order_relaxed)) {
  if (grouping_ != config::TargetGrouping::site)
    return;
  // psl_latest() takes the newer of the distribution's list (the publicsuffix package) and the
  // one built into libpsl.
  psl_ = psl_latest(nullptr);
  if (psl_ == nullptr) {
    psl_ = const_cast<psl_ctx_t*>(psl_builtin());
    list_source_ = psl_ != nullptr ? "built-in" : "";
    return;
  }
  const char* dist = psl_dist_filename();
  list_source_ = dist != nullptr && *dist != '\0' ? dist : "built-in";
}

SiteGrouper::~SiteGrouper() {
  if (psl_ != nullptr && psl_ != psl_builtin())
    psl_free(psl_);
}

namespace {

// Per thread, the last targets grouped (direct-mapped by the target's hash): sites are asked
// for the same few hosts over and over (every log line, every tcp connection while some site
// has a state), and libpsl's lookup is most of a pick's cost. Targets longer than
// kCachedTargetMax are grouped each time; the cache holds at most 2,048 short targets a thread.
struct CachedSite {
  std::uint64_t owner = 0;  // SiteGrouper::id_ (0: empty)
  std::string target;
  SiteGrouper::Grouped grouped;
};
constexpr std::size_t kCacheSlots = 2048;
constexpr std::size_t kCachedTargetMax = 64;

SiteGrouper::Grouped with_hash(std::string site) {
  const std::uint64_t hash = SiteName::hash_of(site);
  return {std::move(site), hash};
}

}  // namespace

SiteGrouper::Grouped SiteGrouper::grouped(std::string_view target) const {
  if (grouping_ == config::TargetGrouping::none)
    return {};
  if (target.size() > kCachedTargetMax)
    return with_hash(group(target));
  thread_local std::array<CachedSite, kCacheSlots> cache;
  CachedSite& c = cache[std::hash<std::string_view>{}(target) & (kCacheSlots - 1)];
  if (c.owner == id_ && c.target == target)
    return c.grouped;
  c.grouped = with_hash(group(target));
  c.owner = id_;
  c.target.assign(target);
  return c.grouped;
}

std::string SiteGrouper::group(std::string_view target) const {
  std::string host = normalize_host(target);
  if (host.empty() || grouping_ == config::TargetGrouping::host || psl_ == nullptr ||
      is_ip_literal(host))
    return host;
  const char* domain = psl_registrable_domain(psl_, host.c_str());
  // nullptr: the host is a public suffix itself (or a single label): it is its own site.
  return domain != nullptr ? std::string(domain) : host;
}

}  // namespace ipm::pool
