#pragma once

// The access log the scanner and replay benchmarks read: lines in the default proxy_logs
// format over `ips` egress IPs (ports 19001.., IPs as the Go tool's example), a realistic
// status mix (60% 200, 403, 404, 429, 502 with an upstream "502, 502"), 1,000 keys, 50 target
// hosts, one line every 3 ms of event time. Deterministic: the same seed gives the same log.

#include <random>
#include <string>

#include "pool/time.hpp"
#include "tests/scanner/log_samples.hpp"

namespace ipm::test {

struct BenchLine {
  int ip = 0;  ///< 0-based egress index: port 19001 + ip, IP go_style_ip(ip)
  std::string text;
};

class BenchLogLines {
 public:
  explicit BenchLogLines(int ips, unsigned seed = 42) : ips_(ips), rng_(seed) {}

  /// Line number `i` (0-based; call with i = 0, 1, 2, ...).
  BenchLine next(long i) {
    static constexpr int kStatuses[] = {200, 200, 200, 200, 200, 200, 403, 404, 429, 502};
    const int k = static_cast<int>(rng_() % static_cast<unsigned>(ips_));
    LineSpec s;
    s.time = pool::TimePoint(std::chrono::seconds(1795315694)) + std::chrono::milliseconds(i * 3);
    s.port = 19001 + k;
    s.egress = go_style_ip(k);
    s.status = kStatuses[rng_() % 10];
    s.upstream_status = s.status == 502 ? "502, 502" : std::to_string(s.status);
    s.bytes = static_cast<long>(rng_() % 5000);
    s.key = "key" + std::to_string(rng_() % 1000);
    s.host = "host" + std::to_string(rng_() % 50) + ".example.com";
    s.request = "GET /item/" + std::to_string(rng_() % 100000) + " HTTP/1.1";
    return {k, default_format_line(s)};
  }

 private:
  int ips_;
  std::mt19937 rng_;
};

}  // namespace ipm::test
