// The probe over a synthetic pool, for tests/bench/probe_bench.sh: N IPs x M history
// entries in a real strategy engine, served on 127.0.0.1 until SIGTERM/SIGINT.
// Usage: probe_bench_server IPS ENTRIES PORT
#include <charconv>
#include <iostream>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/asio/signal_set.hpp>

#include "probe/pool_collector.hpp"
#include "probe/server.hpp"
#include "tests/probe/fixture.hpp"

namespace {

std::size_t number(std::string_view s) {
  std::size_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size())
    throw std::invalid_argument("not a number: " + std::string(s));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: probe_bench_server IPS ENTRIES PORT\n";
    return 2;
  }
  const std::size_t ips = number(argv[1]);
  const std::size_t entries = number(argv[2]);
  ipm::config::Config cfg;
  cfg.max_history_log_each_ip = static_cast<std::uint32_t>(entries);
  ipm::test::ProbeWorld world(ips, cfg);
  world.fill(ips, entries);
  world.context.collectables.push_back(std::make_shared<ipm::probe::PoolCollector>(
      world.engine, ipm::probe::BuildInfo{"bench", "bench"}));

  boost::asio::io_context io;
  ipm::probe::ServerOptions options;
  options.port = static_cast<std::uint16_t>(number(argv[3]));
  options.max_connections = 1024;
  ipm::probe::Server server(io, world.context, options);
  server.start();
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](const boost::system::error_code&, int) { server.stop(); });
  std::cout << "ready " << server.local_endpoint().port() << std::endl;
  std::vector<std::jthread> threads;
  for (int i = 0; i < 2; ++i)
    threads.emplace_back([&io] { io.run(); });
  return 0;
}
