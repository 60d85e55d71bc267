#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "clients/client_address.hpp"

namespace ipm::clients {

/// Caps on concurrent connections per client and per (client, egress). A "client" is the
/// address masked to `v4_prefix` / `v6_prefix` bits (32 and 128: each address alone; 24 and
/// 64: each subnet). 0 means no cap.
struct LimitOptions {
  std::uint32_t per_client = 0;
  std::uint32_t per_client_egress = 0;
  unsigned v4_prefix = 32;
  unsigned v6_prefix = 128;
};

/// Counts the open connections of each client and of each (client, egress) and admits a new
/// one only under its cap. A Lease counts one connection until destroyed. Thread-safe (one
/// mutex, held for a map update: admission is once per connection, not per byte).
class ClientLimits {
 public:
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&& other) noexcept;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();
    explicit operator bool() const { return owner_ != nullptr; }

   private:
    friend class ClientLimits;
    Lease(ClientLimits* owner, std::string key) : owner_(owner), key_(std::move(key)) {}
    void release();
    ClientLimits* owner_ = nullptr;
    std::string key_;
  };

  /// What a client holds now: its open connections in all, and per egress.
  struct ClientCount {
    std::string client;  ///< the address, or the subnet as address/prefix
    std::uint32_t connections = 0;
    std::vector<std::pair<std::string, std::uint32_t>> per_egress;
  };

  explicit ClientLimits(LimitOptions options) : options_(options) {}
  ClientLimits(const ClientLimits&) = delete;
  ClientLimits& operator=(const ClientLimits&) = delete;

  /// A lease on one of the client's connections; an empty lease when the client is at its cap.
  Lease admit_client(const ClientAddress& client);
  /// A lease on the client's connections through `egress`; empty when at that cap (the
  /// caller then tries another egress).
  Lease admit_egress(const ClientAddress& client, std::string_view egress);

  /// The clients with open connections, most connections first.
  std::vector<ClientCount> counts() const;
  const LimitOptions& options() const { return options_; }

 private:
  std::string client_key(const ClientAddress& client) const;
  Lease admit(std::string key, std::uint32_t cap);
  void release(const std::string& key);

  const LimitOptions options_;
  mutable std::mutex mutex_;
  // "client" and "client egress" (a space cannot occur in either) -> open connections.
  std::unordered_map<std::string, std::uint32_t> open_;
};

}  // namespace ipm::clients
