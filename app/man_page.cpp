#include "app/man_page.hpp"

#include <charconv>

#include <boost/json/serialize.hpp>

#include "config/json_view.hpp"
#include "config/schema.hpp"

namespace ipm::app {
namespace {

// Text for roff: a backslash is \e, and a line must not start with '.' or '\''.
std::string roff(std::string_view text) {
  std::string out;
  for (const char c : text) {
    if (c == '\\')
      out += "\\e";
    else if (c == '-')
      out += "\\-";
    else
      out += c;
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\''))
    out.insert(0, "\\&");
  return out;
}

// The default as the reference shows it.
std::string default_text(const config::KeySpec& k, const boost::json::object& shown) {
  if (k.deprecated)
    return "";
  if (k.name == "upstream_conf_path")
    return "(required)";
  if (k.name == "log_format")
    return "the Go tool's format (below)";
  const auto v = shown.find(k.name);
  if (v == shown.end())
    return "";
  if (v->value().is_double()) {  // 0.1, not Boost.JSON's 1E-1
    char buf[32];
    return std::string(buf, std::to_chars(buf, buf + sizeof buf, v->value().as_double()).ptr);
  }
  return boost::json::serialize(v->value());
}

}  // namespace

std::string readme_table() {
  const auto shown = config::to_json(config::Config{});
  std::string t = "| key | type | default | meaning |\n|---|---|---|---|\n";
  for (const config::KeySpec& k : config::schema()) {
    const std::string d = default_text(k, shown);
    t += "| `" + std::string(k.name) + "` | " + std::string(k.type) + " | " +
         (d.empty() ? "" : "`" + d + "`") + " | " + std::string(k.doc) + " |\n";
  }
  return t;
}

std::string man_page(std::string_view version) {
  std::string m;
  m += ".TH IPMANAGER 8 \"\" \"ipmanager " + roff(version) + "\" \"System Administration\"\n";
  m += ".SH NAME\nipmanager \\- health checks and load balancing for an nginx egress IP pool\n";
  m += ".SH SYNOPSIS\n.B ipmanager\n\\-\\-config\n.I PATH\n[\\-\\-parse] [\\-\\-port\n.IR N ]"
       " [\\-\\-check]\n.br\n.B ipmanager\n\\-\\-demo | \\-\\-version | \\-\\-help\n";
  m += ".SH DESCRIPTION\n"
       "ipmanager reads the nginx config of an egress pool (one server block per egress IP), "
       "follows the nginx access log, takes IPs that keep failing out of rotation and lets them "
       "recover, load-balances client TCP connections onto the healthy ones, and serves /ping, "
       "/ready, /probe, /config, /metrics and a JSON API. "
       "It replaces the Go tool ipmanager; its config.json loads unchanged.\n";
  m += ".SH OPTIONS\n"
       ".TP\n\\-\\-config PATH\nThe config file, YAML or JSON.\n"
       ".TP\n\\-\\-parse\nmode parse: replay the rotated logs before following the live one.\n"
       ".TP\n\\-\\-port N\nThe probe port (overrides probe_port).\n"
       ".TP\n\\-\\-check\nValidate the config, the pool config, the log format, that every "
       "access log can be read by the running user and that state_dir is writable; print a "
       "summary and warnings about exposed listeners; exit 0 or 1.\n"
       ".TP\n\\-\\-version\nPrint the version.\n";
  m += ".SH CONFIGURATION\n"
       "Every key can be set in the file or by the environment variable IPM_<KEY> (upper "
       "case), which wins over the file; \\-\\-port and \\-\\-parse win over both. "
       "Durations take an integer in the key's own unit or a string with a unit "
       "(250ms, 5s, 2m, 1h).\n";
  const config::Config defaults;
  const auto shown = config::to_json(defaults);
  for (const config::KeySpec& k : config::schema()) {
    m += ".TP\n.B " + roff(k.name) + "\n";
    if (!k.deprecated) {
      m += roff(k.type) + ", default " + roff(default_text(k, shown)) +
           (k.live ? "; applied on SIGHUP" : "") + ".\n.br\n";
    }
    m += roff(k.doc) + "\n";
  }
  m += ".SH SIGNALS\n.TP\nSIGHUP\nReread the config file and the pool config; a bad one is "
       "reported and everything running is kept.\n.TP\nSIGUSR1\nPrint the statistics block "
       "(per egress: status, ratio, connections, successes, failures, rules, clients) on "
       "stdout.\n.TP\nSIGTERM, SIGINT\nStop accepting, drain "
       "proxied connections for drain_timeout, exit 0.\n";
  m += ".SH EXIT STATUS\n0 ok, 1 bad config or failed check, 2 bad command line or unreadable "
       "config file.\n";
  m += ".SH FILES\n.TP\n/etc/ipmanager/config.yaml\nThe config the systemd unit runs.\n"
       ".TP\n/var/lib/ipmanager/actions.journal\nOperator actions (bans, weights, disables) that "
       "survive "
       "restarts (state_dir).\n.TP\n/usr/share/ipmanager/gen\\-pool.sh\nGenerates an nginx "
       "egress pool config.\n.TP\n/usr/share/doc/ipmanager/\nREADME.md, the log format, "
       "logrotate, Prometheus and Grafana examples.\n";
  m += ".SH SEE ALSO\n.BR nginx (8),\n.BR systemctl (1),\n.BR journalctl (1)\n";
  return m;
}

}  // namespace ipm::app
