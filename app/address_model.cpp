#include "app/address_model.hpp"

#include <algorithm>

#include <boost/asio/ip/address.hpp>

namespace ipm::app {

AddressModel::AddressModel(const std::vector<pool::Egress>& egresses)
    : sources_(sources_of(egresses)) {}

std::vector<AddressModel::Source> AddressModel::sources_of(
    const std::vector<pool::Egress>& egresses) {
  std::vector<Source> out;
  for (const auto& e : egresses) {
    if (e.kind == pool::EgressKind::source)
      out.push_back(Source{e.ip, normal(e.ip), e.interface, true});
  }
  return out;
}

std::vector<std::pair<std::string, bool>> AddressModel::follow(
    const std::vector<pool::Egress>& egresses) {
  std::vector<Source> next = sources_of(egresses);
  for (Source& s : next) {
    const auto old = std::find_if(sources_.begin(), sources_.end(),
                                  [&](const Source& o) { return o.id == s.id; });
    if (old != sources_.end())
      s.present = old->present;  // what the engine was told last
  }
  sources_ = std::move(next);
  return changes();
}

std::string AddressModel::normal(const std::string& address) {
  // One text per address ("fd31:0::1" and "fd31::1" are the same), without a scope id.
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(address.substr(0, address.find('%')), ec);
  return ec ? address : a.to_string();
}

std::vector<std::pair<std::string, bool>> AddressModel::reset(
    const std::vector<proxy::InterfaceAddress>& now,
    const std::function<std::uint32_t(const std::string&)>& index_of) {
  links_.clear();
  addresses_.clear();
  for (const auto& a : now) {
    const std::uint32_t index = index_of(a.interface);
    if (index == 0)
      continue;
    links_[index] = Link{a.interface, a.up};
    addresses_[normal(a.address.to_string())].insert(index);
  }
  return changes();
}

std::vector<std::pair<std::string, bool>> AddressModel::apply(const NetlinkChange& c) {
  using Kind = NetlinkChange::Kind;
  switch (c.kind) {
    case Kind::address_added:
      addresses_[normal(c.address)].insert(c.ifindex);
      break;
    case Kind::address_removed: {
      auto it = addresses_.find(normal(c.address));
      if (it != addresses_.end()) {
        it->second.erase(c.ifindex);
        if (it->second.empty())
          addresses_.erase(it);
      }
      break;
    }
    case Kind::link_up:
    case Kind::link_down: {
      Link& l = links_[c.ifindex];
      if (!c.interface.empty())
        l.name = c.interface;
      l.up = c.kind == Kind::link_up;
      break;
    }
    case Kind::link_removed:
      // Its addresses go with it (the kernel may not say so one by one).
      links_.erase(c.ifindex);
      for (auto it = addresses_.begin(); it != addresses_.end();) {
        it->second.erase(c.ifindex);
        it = it->second.empty() ? addresses_.erase(it) : std::next(it);
      }
      break;
  }
  return changes();
}

bool AddressModel::on_up_link(const std::set<std::uint32_t>& indices, const Source& s) const {
  for (const std::uint32_t index : indices) {
    const auto link = links_.find(index);
    const bool up = link == links_.end() || link->second.up;
    const bool named =
        s.interface.empty() || (link != links_.end() && link->second.name == s.interface);
    if (up && named)
      return true;
  }
  return false;
}

bool AddressModel::computes_present(const Source& s) const {
  if (s.address.rfind("127.", 0) == 0) {
    // The whole 127.0.0.0/8 is local while the loopback holds an address of it: 127.0.1.5
    // binds without being listed on any interface.
    for (auto it = addresses_.lower_bound("127."); it != addresses_.end(); ++it) {
      if (it->first.rfind("127.", 0) != 0)
        break;
      if (on_up_link(it->second, s))
        return true;
    }
    return false;
  }
  const auto it = addresses_.find(s.address);
  return it != addresses_.end() && on_up_link(it->second, s);
}

std::vector<std::pair<std::string, bool>> AddressModel::changes() {
  std::vector<std::pair<std::string, bool>> out;
  for (auto& s : sources_) {
    const bool now = computes_present(s);
    if (now != s.present) {
      s.present = now;
      out.emplace_back(s.id, now);
    }
  }
  return out;
}

bool AddressModel::present(const std::string& id) const {
  for (const auto& s : sources_) {
    if (s.id == id)
      return s.present;
  }
  return true;
}

std::vector<std::string> AddressModel::followed() const {
  std::vector<std::string> out;
  for (const auto& s : sources_)
    out.push_back(s.id);
  return out;
}

}  // namespace ipm::app
