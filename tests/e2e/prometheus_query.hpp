#pragma once

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json.hpp>

#include "tests/support/http_client.hpp"

namespace ipm::test {

/// `s` percent-encoded for a query string.
inline std::string url_encode(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '-') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// The value of a Prometheus instant query (on 127.0.0.1:port) that returns one sample;
/// nullopt when it returns none or several.
inline std::optional<double> query(std::uint16_t port, const std::string& promql) {
  const auto r = http_get("127.0.0.1", port, "/api/v1/query?query=" + url_encode(promql));
  if (r.status != 200)
    return std::nullopt;
  const auto doc = boost::json::parse(r.body);
  const auto& result = doc.at("data").at("result").as_array();
  if (result.size() != 1)
    return std::nullopt;
  return std::stod(std::string(result[0].at("value").as_array()[1].as_string()));
}

}  // namespace ipm::test
