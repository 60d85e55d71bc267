#include "clients/source_ip_rules.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

namespace ipm::clients {

namespace {

namespace json = boost::json;

[[noreturn]] void fail(const std::string& where, const std::string& why) {
  throw std::invalid_argument(where + ": " + why);
}

std::string quoted(std::string_view s) {
  return "[\"" + std::string(s) + "\"]";
}

std::optional<std::uint16_t> port_of(std::string_view text) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value > 65535)
    return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

bool valid_host(std::string_view host) {
  return !host.empty() && std::all_of(host.begin(), host.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '.' || c == '_';
  });
}

SourceIpRule rule_of(const std::string& where, std::string_view client, const json::value& v) {
  SourceIpRule rule;
  std::string why;
  const auto block = config::Cidr::parse(client, why);
  if (!block)
    fail(where, why);
  rule.block = *block;
  rule.block_text = std::string(client);
  if (!v.is_object())
    fail(where, "a rule is an object {source_ip, contention_ratio, description}");
  bool has_ratio = false;
  for (const auto& [key, field] : v.as_object()) {
    if (key == "contention_ratio") {
      // The fork writes an integer; 2.0 is accepted as the same number, 2.5 is not.
      const auto n = field.is_int64() ? std::optional<double>(static_cast<double>(field.as_int64()))
                     : field.is_uint64()
                         ? std::optional<double>(static_cast<double>(field.as_uint64()))
                     : field.is_double() ? std::optional<double>(field.as_double())
                                         : std::nullopt;
      if (!n || *n < 0 || *n > 1000000 || *n != std::floor(*n))
        fail(where + ".contention_ratio",
             "must be a whole number from 0 (never this egress) to 1000000, not " +
                 json::serialize(field));
      rule.ratio = static_cast<std::uint32_t>(*n);
      has_ratio = true;
    } else if (key == "description") {
      if (!field.is_string())
        fail(where + ".description", "must be a string");
      rule.description = std::string(field.as_string());
    } else if (key == "source_ip") {
      if (!field.is_string())
        fail(where + ".source_ip", "must be a string");
      // The fork repeats the key here; a different value would mean the file says two things.
      if (field.as_string() != client)
        fail(where + ".source_ip", "'" + std::string(field.as_string()) +
                                       "' differs from the rule's key '" + std::string(client) +
                                       "'");
    } else {
      fail(where + "." + std::string(key),
           "unknown field (a rule has source_ip, contention_ratio and description)");
    }
  }
  if (!has_ratio)
    fail(where, "contention_ratio is missing");
  return rule;
}

}  // namespace

std::optional<std::string> egress_id(std::string_view key) {
  std::string_view host = key;
  std::optional<std::uint16_t> port;
  if (!key.empty() && key.front() == '[') {  // [v6]:port
    const auto close = key.find(']');
    if (close == std::string_view::npos || close + 1 >= key.size() || key[close + 1] != ':')
      return std::nullopt;
    host = key.substr(1, close - 1);
    port = port_of(key.substr(close + 2));
    if (!port)
      return std::nullopt;
  } else if (std::count(key.begin(), key.end(), ':') == 1) {  // host:port or v4:port
    const auto colon = key.find(':');
    host = key.substr(0, colon);
    port = port_of(key.substr(colon + 1));
    if (!port)
      return std::nullopt;
  }
  if (const auto address = ClientAddress::parse(host)) {
    const std::string text = address->to_string();
    if (!port || *port == 0)
      return text;
    return address->v4 ? text + ":" + std::to_string(*port)
                       : "[" + text + "]:" + std::to_string(*port);
  }
  if (!port || *port == 0 || !valid_host(host))
    return std::nullopt;  // a name needs a port: it is an upstream proxy
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower + ":" + std::to_string(*port);
}

SourceIpRules SourceIpRules::parse(std::string_view text) {
  boost::system::error_code ec;
  const json::value doc = json::parse(text, ec);
  if (ec)
    fail("source IP rules", "not JSON: " + ec.message());
  if (!doc.is_object())
    fail("source IP rules", "the top level is an object of egresses");
  SourceIpRules out;
  for (const auto& [key, per_client] : doc.as_object()) {
    const std::string where = quoted(key);
    const auto id = egress_id(key);
    if (!id)
      fail(where,
           "not an egress: write a source address (\"192.168.1.10:0\" or "
           "\"192.168.1.10\") or an upstream proxy's \"host:port\"");
    if (!per_client.is_object())
      fail(where, "an egress's rules are an object of client IP or CIDR -> rule");
    const auto same = std::find_if(out.egresses_.begin(), out.egresses_.end(),
                                   [&](const EgressRules& e) { return e.egress == *id; });
    if (same != out.egresses_.end())
      fail(where, "names the same egress as another key (" + *id + ")");
    EgressRules egress{*id, {}};
    for (const auto& [client, rule] : per_client.as_object())
      egress.rules.push_back(rule_of(where + quoted(client), client, rule));
    // Longest prefix first; between an IPv4 and an IPv6 rule the order does not matter (a
    // client matches one family only).
    std::stable_sort(egress.rules.begin(), egress.rules.end(),
                     [](const SourceIpRule& a, const SourceIpRule& b) {
                       return a.block.prefix > b.block.prefix;
                     });
    out.egresses_.push_back(std::move(egress));
  }
  return out;
}

SourceIpRules SourceIpRules::load(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    throw std::invalid_argument(path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return parse(text.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

const SourceIpRule* SourceIpRules::match(std::string_view egress,
                                         const ClientAddress& client) const {
  for (const EgressRules& e : egresses_) {
    if (e.egress != egress)
      continue;
    for (const SourceIpRule& r : e.rules)
      if (r.block.contains(client.bytes.data(), client.v4))
        return &r;
    return nullptr;
  }
  return nullptr;
}

bool SourceIpRules::names(const ClientAddress& client) const {
  return std::any_of(egresses_.begin(), egresses_.end(), [&](const EgressRules& e) {
    return std::any_of(e.rules.begin(), e.rules.end(), [&](const SourceIpRule& r) {
      return r.block.contains(client.bytes.data(), client.v4);
    });
  });
}

std::size_t SourceIpRules::rule_count() const {
  std::size_t n = 0;
  for (const EgressRules& e : egresses_)
    n += e.rules.size();
  return n;
}

}  // namespace ipm::clients
