#include "probe/router.hpp"

#include <array>
#include <functional>

#include "probe/auth.hpp"
#include "probe/routes.hpp"
#include "probe/web_assets.hpp"

namespace ipm::probe {

namespace {

using Handler = std::function<Response(const Request&, const Target&, Context&, std::string_view)>;

struct Route {
  http::verb method;
  Access access;
  Handler handler;
};

template <Response (*F)(const Request&, const Target&, Context&)>
Response fixed(const Request& r, const Target& t, Context& c, std::string_view) {
  return F(r, t, c);
}

// Resolves a path to its routes (one per method) and the {ip} it carries, if any.
// Exact paths win over /api/ip/{ip}: "history" and "renew" are not IPs.
std::vector<Route> routes_for(std::string_view path, std::string_view& ip) {
  using V = http::verb;
  using A = Access;
  using namespace routes;
  if (path == "/ping")
    return {{V::get, A::open, fixed<ping>}};
  if (path == "/ready")
    return {{V::get, A::open, fixed<ready>}};
  if (path == "/config" || path == "/api/config")
    return {{V::get, A::read, fixed<config>}};
  if (path == "/metrics")
    return {{V::get, A::read, fixed<metrics>}};
  if (path == "/probe" || path == "/api/ip/history")
    return {{V::get, A::read, fixed<history>}};
  if (path == "/api/decisions")
    return {{V::get, A::read, fixed<decisions>}};
  if (path == "/api/clients")
    return {{V::get, A::read, fixed<client_counts>}};
  if (path == "/api/events")
    return {{V::get, A::read, fixed<events>}};
  if (path == "/api/ip/renew")
    return {{V::post, A::mutate, fixed<renew>}};
  // The page and its assets hold no data: what they show comes from /api/events and their
  // buttons call the /api/ip routes, each under its own rule.
  if (find_web_asset(path) != nullptr)
    return {{V::get, A::open, fixed<web_asset>}};

  constexpr std::string_view kIpPrefix = "/api/ip/";
  if (!path.starts_with(kIpPrefix))
    return {};
  std::string_view rest = path.substr(kIpPrefix.size());
  const auto slash = rest.find('/');
  ip = rest.substr(0, slash);
  if (ip.empty())
    return {};
  if (slash == std::string_view::npos)
    return {{V::get, A::read, ip_detail}};
  const std::string_view action = rest.substr(slash + 1);
  if (action == "ban")
    return {{V::post, A::mutate, ip_ban}};
  if (action == "unban")
    return {{V::post, A::mutate, ip_unban}};
  if (action == "reset")
    return {{V::post, A::mutate, ip_reset}};
  if (action == "weight")
    return {{V::post, A::mutate, ip_weight}};
  if (action == "disable")
    return {{V::post, A::mutate, ip_disable}};
  if (action == "enable")
    return {{V::post, A::mutate, ip_enable}};
  return {};
}

std::string allow_header(const std::vector<Route>& routes) {
  std::string allow;
  for (const auto& r : routes) {
    if (!allow.empty())
      allow += ", ";
    allow += http::to_string(r.method);
    if (r.method == http::verb::get)
      allow += ", HEAD";
  }
  return allow;
}

}  // namespace

Response handle(const Request& request, Context& context) {
  const auto target = parse_target(request.message.target());
  if (!target)
    return error_response(http::status::bad_request, "malformed request target");

  std::string_view ip;
  const auto routes = routes_for(target->path, ip);
  if (routes.empty())
    return error_response(http::status::not_found, "no route " + target->path);

  const http::verb method =
      request.message.method() == http::verb::head ? http::verb::get : request.message.method();
  for (const auto& route : routes) {
    if (route.method != method)
      continue;
    if (auto refusal = refuse(request, route.access, *context.config()))
      return std::move(*refusal);
    return route.handler(request, *target, context, ip);
  }
  Response r = error_response(
      http::status::method_not_allowed,
      "method " + std::string(request.message.method_string()) + " not allowed on " + target->path);
  r.message.set(http::field::allow, allow_header(routes));
  return r;
}

}  // namespace ipm::probe
