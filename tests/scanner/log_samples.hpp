#pragma once

// Generators shared by the scanner tests and benchmarks: access-log lines in the default
// format and pool configs in the Go tool's style.

#include <ctime>
#include <string>

#include "pool/time.hpp"

namespace ipm::test {

/// One request as nginx would log it with the default `proxy_logs` format.
struct LineSpec {
  std::string remote = "127.0.0.1";
  pool::TimePoint time{};
  std::string request = "GET /x HTTP/1.1";
  int status = 200;
  long bytes = 18;
  std::string user_agent = "curl/7.88.1";
  std::string server_addr = "127.0.0.1";
  int port = 19002;
  std::string egress = "127.0.1.2";
  std::string upstream_status = "200";
  std::string request_time = "0.001";
  std::string key = "k1";
  std::string host = "example.com";
};

/// "22/Nov/2026:02:48:14 +0000" for a UTC instant.
inline std::string time_local(pool::TimePoint t) {
  const std::time_t secs = pool::Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%d/%b/%Y:%H:%M:%S +0000", &tm);
  return buf;
}

inline std::string default_format_line(const LineSpec& s) {
  return s.remote + " - - [" + time_local(s.time) + "] \"" + s.request + "\" " +
         std::to_string(s.status) + " " + std::to_string(s.bytes) + " \"-\" \"" + s.user_agent +
         "\" " + s.server_addr + ":" + std::to_string(s.port) + " egress=" + s.egress +
         " upstream_status=" + s.upstream_status + " rt=" + s.request_time +
         " Exgress_key: " + s.key + " -> Request Host: " + s.host + " <-";
}

/// The egress IP of block `k` (0-based): 10.100.71.121, ... as in the Go tool's example.
inline std::string go_style_ip(int k) {
  const int host = 121 + k;
  return "10.100." + std::to_string(71 + host / 256) + "." + std::to_string(host % 256);
}

/// One server block exactly in the Go tool's upstream.conf style.
inline std::string go_style_block(int port, const std::string& ip) {
  const std::string p = std::to_string(port);
  return "server {\n\tlisten " + p + ";\n\tserver_name " + ip +
         ";\n\taccess_log  /var/log/nginx/host.access.log proxy_logs;\n"
         "    \terror_log  /var/log/nginx/host.error.log;\n"
         "        location = /test {\n\t\treturn 200 \"" +
         p + "->" + ip +
         "\";\n\t}\n"
         "        location / {\n"
         "                resolver 127.0.0.53;\n"
         "                proxy_bind " +
         ip +
         ";\n"
         "                proxy_set_header Host $http_x_egress_host;\n"
         "                proxy_set_header X-Egress-Host \"\";\n"
         "                proxy_set_header X-Egress-Scheme \"\";\n"
         "                proxy_set_header X-Egress-Key \"\";\n"
         "                proxy_hide_header X-Accel-Redirect;\n"
         "                proxy_pass $http_x_egress_scheme://$http_x_egress_host;\n"
         "        }\n\n}\n";
}

/// A whole upstream.conf of `n` blocks from port 19001.
inline std::string go_style_config(int n) {
  std::string out = "\n";
  for (int k = 0; k < n; ++k) {
    out += go_style_block(19001 + k, go_style_ip(k));
  }
  return out;
}

}  // namespace ipm::test
