#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "pool/bytes.hpp"

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
  /// Whether `other` is this name: a pick for a site compares once, inline (same_bytes).
  bool is(std::string_view other) const {
    return name_.size() == other.size() && same_bytes(name_.data(), other.data(), other.size());
  }
  std::uint64_t hash() const { return hash_; }
  bool empty() const { return name_.empty(); }

 private:
  std::string_view name_;
  std::uint64_t hash_ = hash_of({});
};

}  // namespace ipm::pool
