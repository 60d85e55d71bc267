#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

namespace ipm::pool {

/// A site's name (a view: valid as long as the text it was made from) with its hash, computed
/// once where the site is made so that each pick of a request probes the snapshot's site
/// table without hashing the name again (SiteGrouper caches the hash with the site).
/// Implicit from text: `request.site = "a.example"` hashes it there.
class SiteName {
 public:
  SiteName() = default;
  SiteName(std::string_view name) : name_(name), hash_(hash_of(name)) {}   // NOLINT: implicit
  SiteName(const char* name) : SiteName(std::string_view(name)) {}         // NOLINT: implicit
  SiteName(const std::string& name) : SiteName(std::string_view(name)) {}  // NOLINT: implicit

  /// `hash` must be hash_of(name): for a caller that kept it with the name.
  static SiteName prehashed(std::string_view name, std::uint64_t hash) {
    SiteName s;
    s.name_ = name;
    s.hash_ = hash;
    return s;
  }

  static std::uint64_t hash_of(std::string_view name) {
    return std::hash<std::string_view>{}(name);
  }

  std::string_view view() const { return name_; }
  /// Whether `other` is this name. Inline, without memcmp's call for the usual length of a
  /// registrable domain (8 to 16 bytes: two overlapping word compares): a pick for a site
  /// compares once, and the call showed in its profile.
  bool is(std::string_view other) const {
    const std::size_t n = name_.size();
    if (n != other.size())
      return false;
    if (n < 8 || n > 16)
      return name_ == other;
    std::uint64_t a[2];
    std::uint64_t b[2];
    std::memcpy(&a[0], name_.data(), 8);
    std::memcpy(&a[1], name_.data() + n - 8, 8);
    std::memcpy(&b[0], other.data(), 8);
    std::memcpy(&b[1], other.data() + n - 8, 8);
    return ((a[0] ^ b[0]) | (a[1] ^ b[1])) == 0;
  }
  std::uint64_t hash() const { return hash_; }
  bool empty() const { return name_.empty(); }

 private:
  std::string_view name_;
  std::uint64_t hash_ = hash_of({});
};

}  // namespace ipm::pool
