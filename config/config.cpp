#include "config/config.hpp"

namespace ipm::config {

Config::Config() {
  // 403 blocked, 407 proxy auth, 429 rate limited, and every 5xx (nginx's own 502/504 when
  // the egress connect fails): what a target does to an IP it dislikes.
  for (int s : {403, 407, 429}) {
    failure_statuses.bits.set(static_cast<std::size_t>(s));
    failure_statuses.spec.push_back(std::to_string(s));
  }
  for (std::size_t s = 500; s < 600; ++s)
    failure_statuses.bits.set(s);
  failure_statuses.spec.emplace_back("5xx");
}

std::vector<Listener> Config::front_ends() const {
  if (!listen.empty())
    return listen;
  return {Listener{FrontEnd::tcp, proxy_host, proxy_port, {}}};
}

std::string_view to_string(Mode m) {
  return m == Mode::parse ? "parse" : "serve";
}

std::string_view to_string(Selection s) {
  switch (s) {
    case Selection::random:
      return "random";
    case Selection::round_robin:
      return "round_robin";
    case Selection::weighted:
      return "weighted";
    case Selection::least_conn:
      return "least_conn";
  }
  return "?";
}

std::string_view to_string(LogStyle s) {
  return s == LogStyle::json ? "json" : "text";
}

std::string_view to_string(AllUnavailable a) {
  return a == AllUnavailable::refuse ? "refuse" : "least_bad";
}

std::string_view to_string(MetricsPerIp m) {
  switch (m) {
    case MetricsPerIp::all:
      return "all";
    case MetricsPerIp::unavailable:
      return "unavailable";
    case MetricsPerIp::compact:
      return "compact";
  }
  return "?";
}

std::string_view to_string(TargetGrouping g) {
  switch (g) {
    case TargetGrouping::site:
      return "site";
    case TargetGrouping::host:
      return "host";
    case TargetGrouping::none:
      return "none";
  }
  return "?";
}

}  // namespace ipm::config
