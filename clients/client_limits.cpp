#include "clients/client_limits.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace ipm::clients {

ClientLimits::Lease::Lease(Lease&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), key_(std::move(other.key_)) {}

ClientLimits::Lease& ClientLimits::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = std::exchange(other.owner_, nullptr);
    key_ = std::move(other.key_);
  }
  return *this;
}

ClientLimits::Lease::~Lease() {
  release();
}

void ClientLimits::Lease::release() {
  if (owner_)
    std::exchange(owner_, nullptr)->release(key_);
}

std::string ClientLimits::client_key(const ClientAddress& client) const {
  const unsigned prefix = client.v4 ? options_.v4_prefix : options_.v6_prefix;
  const unsigned bits = client.v4 ? 32 : 128;
  if (prefix >= bits)
    return client.to_string();
  return client.masked(prefix).to_string() + "/" + std::to_string(prefix);
}

ClientLimits::Lease ClientLimits::admit_client(const ClientAddress& client) {
  return admit(client_key(client), options_.per_client);
}

ClientLimits::Lease ClientLimits::admit_egress(const ClientAddress& client,
                                               std::string_view egress) {
  return admit(client_key(client) + " " + std::string(egress), options_.per_client_egress);
}

ClientLimits::Lease ClientLimits::admit(std::string key, std::uint32_t cap) {
  const std::lock_guard lock(mutex_);
  auto& open = open_[key];
  if (cap != 0 && open >= cap)
    return {};
  ++open;
  return Lease(this, std::move(key));
}

void ClientLimits::release(const std::string& key) {
  const std::lock_guard lock(mutex_);
  const auto it = open_.find(key);
  if (it != open_.end() && --it->second == 0)
    open_.erase(it);
}

std::vector<ClientLimits::ClientCount> ClientLimits::counts() const {
  std::map<std::string, ClientCount> by_client;
  {
    const std::lock_guard lock(mutex_);
    for (const auto& [key, open] : open_) {
      const auto space = key.find(' ');
      ClientCount& c = by_client[key.substr(0, space)];
      c.client = key.substr(0, space);
      if (space == std::string::npos)
        c.connections = open;
      else
        c.per_egress.emplace_back(key.substr(space + 1), open);
    }
  }
  std::vector<ClientCount> out;
  for (auto& [client, count] : by_client) {
    std::sort(count.per_egress.begin(), count.per_egress.end());
    out.push_back(std::move(count));
  }
  std::stable_sort(out.begin(), out.end(), [](const ClientCount& a, const ClientCount& b) {
    return a.connections > b.connections;
  });
  return out;
}

}  // namespace ipm::clients
