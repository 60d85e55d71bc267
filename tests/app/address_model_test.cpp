#include "app/address_model.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

// Which source egresses can leave the host, followed through address and link changes.

namespace {

using ipm::app::AddressModel;
using ipm::app::NetlinkChange;
using Kind = ipm::app::NetlinkChange::Kind;
using Changes = std::vector<std::pair<std::string, bool>>;

ipm::pool::Egress source(std::string ip, std::string interface = {}) {
  ipm::pool::Egress e;
  e.ip = std::move(ip);
  e.kind = ipm::pool::EgressKind::source;
  e.interface = std::move(interface);
  return e;
}

std::uint32_t index_of(const std::string& name) {
  return name == "eth0" ? 2 : name == "eth1" ? 3 : 0;
}

std::vector<ipm::proxy::InterfaceAddress> host() {
  using boost::asio::ip::make_address;
  return {{"eth0", make_address("10.0.0.1"), true, false},
          {"eth0", make_address("fd31::1"), true, false},
          {"eth1", make_address("10.0.1.1"), true, false}};
}

AddressModel started(const std::vector<ipm::pool::Egress>& egresses) {
  AddressModel m(egresses);
  m.reset(host(), index_of);
  return m;
}

TEST(AddressModelTest, a_source_leaves_with_its_address_and_returns_with_it) {
  AddressModel m(
      {source("10.0.0.1"), source("fd31:0::1"), source("10.0.1.1"), ipm::pool::Egress{}});
  EXPECT_EQ(m.reset(host(), index_of), Changes{}) << "all there at start";
  EXPECT_EQ(m.followed().size(), 3U) << "the nginx egress is not followed";
  EXPECT_EQ(m.apply({Kind::address_removed, 2, "", "10.0.0.1"}), (Changes{{"10.0.0.1", false}}));
  EXPECT_FALSE(m.present("10.0.0.1"));
  EXPECT_EQ(m.apply({Kind::address_removed, 2, "", "10.0.0.1"}), Changes{}) << "said once";
  EXPECT_EQ(m.apply({Kind::address_added, 2, "", "10.0.0.1"}), (Changes{{"10.0.0.1", true}}));
  // IPv6, written another way in the config: the same address.
  EXPECT_EQ(m.apply({Kind::address_removed, 2, "", "fd31::1"}), (Changes{{"fd31:0::1", false}}));
}

TEST(AddressModelTest, a_link_down_takes_out_every_source_on_it_and_up_brings_them_back) {
  AddressModel m = started({source("10.0.0.1"), source("fd31::1"), source("10.0.1.1")});
  EXPECT_EQ(m.apply({Kind::link_down, 2, "eth0", ""}),
            (Changes{{"10.0.0.1", false}, {"fd31::1", false}}));
  EXPECT_TRUE(m.present("10.0.1.1"));
  EXPECT_EQ(m.apply({Kind::link_up, 2, "eth0", ""}),
            (Changes{{"10.0.0.1", true}, {"fd31::1", true}}));
  // Removed: its addresses go with it, and a new link of the same index has none of them.
  EXPECT_EQ(m.apply({Kind::link_removed, 3, "eth1", ""}), (Changes{{"10.0.1.1", false}}));
  EXPECT_EQ(m.apply({Kind::link_up, 3, "eth1", ""}), Changes{});
  EXPECT_EQ(m.apply({Kind::address_added, 3, "", "10.0.1.1"}), (Changes{{"10.0.1.1", true}}));
}

TEST(AddressModelTest, an_address_on_two_links_stays_while_one_holds_it) {
  AddressModel m = started({source("10.0.0.1")});
  m.apply({Kind::address_added, 3, "", "10.0.0.1"});
  EXPECT_EQ(m.apply({Kind::address_removed, 2, "", "10.0.0.1"}), Changes{});
  EXPECT_EQ(m.apply({Kind::link_down, 3, "eth1", ""}), (Changes{{"10.0.0.1", false}}));
}

TEST(AddressModelTest, a_source_bound_to_an_interface_needs_its_address_on_that_one) {
  AddressModel m = started({source("10.0.0.1", "eth0")});
  m.apply({Kind::address_added, 3, "", "10.0.0.1"});  // the address also on eth1
  EXPECT_EQ(m.apply({Kind::link_down, 2, "eth0", ""}), (Changes{{"10.0.0.1", false}}))
      << "on eth1 it is of no use to a source bound to eth0";
}

TEST(AddressModelTest, a_source_whose_address_is_on_no_interface_starts_absent) {
  AddressModel m({source("192.0.2.1")});
  EXPECT_EQ(m.reset(host(), index_of), (Changes{{"192.0.2.1", false}}));
  EXPECT_TRUE(m.present("10.9.9.9")) << "not followed: never taken out";
}

TEST(AddressModelTest, any_loopback_address_is_there_while_the_loopback_holds_one) {
  AddressModel m({source("127.0.1.5"), source("::2")});
  const auto lo = [](const std::string& name) -> std::uint32_t { return name == "lo" ? 1 : 0; };
  EXPECT_EQ(m.reset({{"lo", boost::asio::ip::make_address("127.0.0.1"), true, true},
                     {"lo", boost::asio::ip::make_address("::1"), true, true}},
                    lo),
            (Changes{{"::2", false}}))
      << "127.0.1.5 binds on the loopback's /8; IPv6 has no such range";
  EXPECT_EQ(m.apply({Kind::link_down, 1, "lo", ""}), (Changes{{"127.0.1.5", false}}));
  EXPECT_EQ(m.apply({Kind::link_up, 1, "lo", ""}), (Changes{{"127.0.1.5", true}}));
  EXPECT_EQ(m.apply({Kind::address_removed, 1, "", "127.0.0.1"}), (Changes{{"127.0.1.5", false}}));
}

TEST(AddressModelTest, a_reload_follows_added_sources_and_forgets_removed_ones) {
  AddressModel m = started({source("10.0.0.1"), source("10.0.1.1")});
  EXPECT_EQ(m.apply({Kind::address_removed, 3, "", "10.0.1.1"}), (Changes{{"10.0.1.1", false}}));
  // Added: one whose address is there (it starts present, as the engine adds it: nothing to
  // say) and one whose address is on no interface (out at once); 10.0.1.1 stays absent
  // without being said again; 10.0.0.1 is no longer followed.
  EXPECT_EQ(m.follow({source("10.0.1.1"), source("fd31::1"), source("192.0.2.7")}),
            (Changes{{"192.0.2.7", false}}));
  EXPECT_FALSE(m.present("10.0.1.1"));
  EXPECT_EQ(m.followed(), (std::vector<std::string>{"10.0.1.1", "fd31::1", "192.0.2.7"}));
  EXPECT_EQ(m.apply({Kind::address_removed, 2, "", "10.0.0.1"}), Changes{}) << "forgotten";
  EXPECT_EQ(m.apply({Kind::address_removed, 2, "", "fd31::1"}), (Changes{{"fd31::1", false}}));
  EXPECT_EQ(m.apply({Kind::address_added, 3, "", "10.0.1.1"}), (Changes{{"10.0.1.1", true}}));
}

}  // namespace
