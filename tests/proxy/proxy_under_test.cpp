#include "proxy_under_test.hpp"

#include <chrono>
#include <thread>

namespace ipm::proxy::test {

pool::Egress egress_at(std::uint16_t port) {
  return pool::Egress{"127.0.0.1", port, {}, 1};
}

ProxyUnderTest::ProxyUnderTest(std::vector<pool::Egress> egresses,
                               const std::function<void(config::Config&)>& tweak)
    : source(std::move(egresses)) {
  using namespace std::chrono_literals;
  config.next = "127.0.0.1";
  config.proxy_host = "127.0.0.1";
  config.proxy_port = 0;
  config.proxy_threads = 2;
  config.dial_timeout = 300ms;
  config.dial_retries = 3;
  config.idle_timeout = 30s;
  config.close_timeout = 10s;
  config.drain_timeout = 5s;
  if (tweak)
    tweak(config);
  server.emplace(config, source, decisions, registry);
  server->start();
  port_ = server->local_endpoint().port();
}

std::vector<pool::Decision> ProxyUnderTest::wait_for_decisions(std::size_t n) const {
  for (int i = 0; i < 1000 && decisions.total() < n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return decisions.latest(n);
}

double ProxyUnderTest::metric(const std::string& name,
                              const std::map<std::string, std::string>& labels) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name)
      continue;
    for (const auto& m : family.metric) {
      std::map<std::string, std::string> have;
      for (const auto& l : m.label)
        have[l.name] = l.value;
      if (have != labels)
        continue;
      return family.type == prometheus::MetricType::Gauge ? m.gauge.value : m.counter.value;
    }
  }
  return 0;
}

}  // namespace ipm::proxy::test
