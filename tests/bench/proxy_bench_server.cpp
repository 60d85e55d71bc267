// A runnable proxy::Server for tests/bench/proxy_vs_haproxy.sh: the proxy alone, without the
// pool, the strategy, the probe or the log follower of the ipmanager binary. Its egresses are
// fixed (next=127.0.0.1, one per --backend-port, taken in turn by a RoundRobinSource); it
// listens on 127.0.0.1, runs until SIGTERM or SIGINT, then drains like the app does.
//
//   proxy_bench_server --backend-port P [--backend-port P2 ...] [--port N] [--threads T]
//                      [--buffer-bytes B] [--drain-ms D] [--max-connections M] [--splice 0|1]
// Prints "listening PORT" on stdout once it accepts.
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/registry.h>

#include "config/config.hpp"
#include "pool/decision_log.hpp"
#include "proxy/round_robin_source.hpp"
#include "proxy/server.hpp"

namespace {

unsigned long number(const char* flag, const char* value) {
  char* end = nullptr;
  const unsigned long n = std::strtoul(value, &end, 10);
  if (value[0] == '\0' || *end != '\0') {
    std::cerr << "proxy_bench_server: " << flag << " wants a number, got '" << value << "'\n";
    std::exit(2);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  ipm::config::Config config;
  config.next = "127.0.0.1";
  config.proxy_port = 0;
  config.proxy_threads = 1;
  config.dial_timeout = std::chrono::seconds(2);
  config.drain_timeout = std::chrono::seconds(5);
  ipm::proxy::ServerOptions options;
  std::vector<ipm::pool::Egress> egresses;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--backend-port") {
      const unsigned long port = number(argv[i], value);
      if (port == 0 || port > 65535) {
        std::cerr << "proxy_bench_server: --backend-port wants 1-65535, got " << port << "\n";
        return 2;
      }
      egresses.push_back(ipm::pool::Egress{"127.0.0.1", static_cast<std::uint16_t>(port), {}, 1});
    } else if (flag == "--port")
      config.proxy_port = static_cast<std::uint16_t>(number(argv[i], value));
    else if (flag == "--threads")
      config.proxy_threads = static_cast<std::uint32_t>(number(argv[i], value));
    else if (flag == "--buffer-bytes")
      options.buffer_bytes = number(argv[i], value);
    else if (flag == "--drain-ms")
      config.drain_timeout = std::chrono::milliseconds(number(argv[i], value));
    else if (flag == "--splice")
      config.proxy_splice = number(argv[i], value) != 0;
    else if (flag == "--max-connections")
      config.max_connections = static_cast<std::uint32_t>(number(argv[i], value));
    else {
      std::cerr << "proxy_bench_server: unknown flag " << flag << "\n";
      return 2;
    }
  }
  if (egresses.empty() || options.buffer_bytes < 1024) {
    std::cerr << "usage: proxy_bench_server --backend-port P [--backend-port P2 ...] [--port N] "
                 "[--threads T] "
                 "[--buffer-bytes B>=1024] [--drain-ms D] [--max-connections M] [--splice 0|1]\n";
    return 2;
  }

  // Block the stop signals before any thread starts so only sigwait() below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ipm::proxy::RoundRobinSource source(std::move(egresses));
  ipm::pool::DecisionLog decisions(1000);
  prometheus::Registry registry;
  ipm::proxy::Server server(config, source, decisions, registry, options);
  server.start();
  std::cout << "listening " << server.local_endpoint().port() << std::endl;

  int signal = 0;
  sigwait(&stop_signals, &signal);
  server.stop();
  server.wait();
  std::cout << "drained after " << decisions.total() << " connections" << std::endl;
  return 0;
}
