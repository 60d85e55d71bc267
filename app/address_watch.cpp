#include "app/address_watch.hpp"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/log.hpp"

namespace ipm::app {
namespace asio = boost::asio;
using raw = asio::generic::raw_protocol;

AddressWatch::AddressWatch(asio::any_io_executor executor,
                           const std::vector<pool::Egress>& egresses, Present present)
    : model_(egresses), present_(std::move(present)), socket_(std::move(executor)) {}

bool AddressWatch::start(std::string& error) {
  if (model_.followed().empty())
    return true;  // no source egress: nothing to follow, no socket
  boost::system::error_code ec;
  socket_.open(raw(AF_NETLINK, NETLINK_ROUTE), ec);
  if (!ec) {
    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    local.nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
    socket_.bind(raw::endpoint(&local, sizeof local), ec);
  }
  if (ec) {
    error = "rtnetlink: " + ec.message();
    socket_.close(ec);
    return false;
  }
  // Subscribed first, listed second: a change between the two is in the socket's queue.
  resync();
  asio::co_spawn(socket_.get_executor(), loop(), log_when_stopped("address watch"));
  return true;
}

void AddressWatch::stop() {
  stopping_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void AddressWatch::follow(const std::vector<pool::Egress>& egresses) {
  const auto changes = model_.follow(egresses);
  if (socket_.is_open()) {
    tell(changes);
    return;
  }
  // Not listening yet (no source before, or no socket at start): the model knows no address,
  // so its answer means nothing until start() lists the host's.
  if (stopping_ || model_.followed().empty())
    return;
  if (std::string error; !start(error))
    log_warn() << error << ": source egresses leave only by their failed dials";
}

void AddressWatch::resync() {
  tell(model_.reset(proxy::interface_addresses(),
                    [](const std::string& name) { return ::if_nametoindex(name.c_str()); }));
}

void AddressWatch::tell(const std::vector<std::pair<std::string, bool>>& changes) {
  for (const auto& [id, present] : changes) {
    log_info() << "source " << id
               << (present ? ": its address is back" : ": its address or link is gone");
    present_(id, present);
  }
}

asio::awaitable<void> AddressWatch::loop() {
  // One datagram holds whole messages; the kernel's are well under 64 KB.
  std::vector<std::byte> buffer(64 * 1024);
  while (!stopping_) {
    auto [ec, n] =
        co_await socket_.async_receive(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (stopping_ || ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor)
      co_return;
    if (ec == asio::error::no_buffer_space) {
      log_warn() << "rtnetlink: messages lost (the socket's buffer overran): relisting";
      resync();
      continue;
    }
    if (ec) {
      log_error() << "rtnetlink: " << ec.message() << ": addresses no longer followed";
      co_return;
    }
    std::size_t bad = 0;
    for (const NetlinkChange& c : decode_netlink(std::span(buffer).first(n), &bad))
      tell(model_.apply(c));
    if (bad > 0)
      log_warn() << "rtnetlink: " << bad << " message(s) that could not be read were skipped";
  }
}

}  // namespace ipm::app
