#include "app/service.hpp"

#include <csignal>
#include <thread>

#include <prometheus/registry.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "app/decision_logger.hpp"
#include "app/descriptor_limit.hpp"
#include "app/log.hpp"
#include "app/log_pipeline.hpp"
#include "app/pool_egress_source.hpp"
#include "app/version.hpp"
#include "config/json_view.hpp"
#include "config/schema.hpp"
#include "pool/decision_log.hpp"
#include "pool/selector.hpp"
#include "probe/context.hpp"
#include "probe/pool_collector.hpp"
#include "probe/server.hpp"
#include "probe/server_options.hpp"
#include "proxy/server.hpp"
#include "scanner/upstream_config.hpp"
#include "strategy/shared_engine.hpp"

namespace ipm::app {
namespace asio = boost::asio;

namespace {

scanner::UpstreamConfig read_upstream(const config::Config& c) {
  scanner::UpstreamConfig upstream = scanner::parse_upstream_config(c.upstream_conf_path);
  for (const auto& w : upstream.warnings)
    log_warn() << "upstream config: " << w;
  log_info() << "upstream config " << c.upstream_conf_path << ": " << upstream.egresses.size()
             << " egress IPs on " << upstream.bindings.size() << " ports"
             << (upstream.ignored_blocks ? ", " + std::to_string(upstream.ignored_blocks) +
                                               " server blocks without an egress ignored"
                                         : "");
  return upstream;
}

// Applies the live keys of `next` to `running` (the schema says which keys are live) and
// logs the changed keys, live or waiting for a restart. Secrets are compared redacted, so a
// changed token is applied without being named.
void apply_live_changes(config::Config& running, const config::Config& next) {
  const auto a = config::to_json(running);
  const auto b = config::to_json(next);
  std::string applied;
  std::string pending;
  for (const config::KeySpec& k : config::schema()) {
    if (k.live && k.copy)
      k.copy(next, running);
    const auto before = a.find(k.name);
    const auto after = b.find(k.name);
    if (after == b.end() || (before != a.end() && before->value() == after->value()))
      continue;
    std::string& list = k.live ? applied : pending;
    list += (list.empty() ? "" : ", ") + std::string(k.name);
  }
  if (!applied.empty())
    log_info() << "SIGHUP: applied " << applied;
  if (!pending.empty())
    log_warn() << "SIGHUP: changes to " << pending << " take effect on restart";
}

}  // namespace

Service::Service(config::Config config, ConfigSource reload)
    : config_(std::move(config)), reload_(std::move(reload)) {}

Service::~Service() = default;

int Service::run() {
  const auto start = pool::Clock::now();
  const DescriptorLimit fd_limit = raise_descriptor_limit();
  (fd_limit.error.empty() ? log_info() : log_warn()) << describe(fd_limit);
  scanner::UpstreamConfig upstream = read_upstream(config_);

  auto registry = std::make_shared<prometheus::Registry>();
  pool::Selector selector(config_.selection);
  strategy::SharedEngine engine(config_, selector, upstream.egresses, start);
  engine.set_decision_sink(log_decision);
  pool::DecisionLog decisions(config_.decisions_kept);

  // One thread runs the tailer, the probe and the housekeeping timer; the proxy runs its
  // own threads (one per usable CPU) and meets the rest only in the lock-free snapshot and the
  // engine's short critical sections.
  asio::io_context io(1);
  LogPipeline logs(io.get_executor(), config_, upstream.bindings, engine, *registry);

  probe::Context context(config_);
  context.engine = &engine;
  context.decisions = &decisions;
  context.collectables.push_back(registry);
  context.collectables.push_back(
      std::make_shared<probe::PoolCollector>(engine, probe::BuildInfo{kVersion, kRevision}));

  auto rescan = [&] {
    try {
      upstream = read_upstream(config_);
      const std::size_t changed = engine.reload(upstream.egresses, pool::Clock::now());
      logs.rebind(upstream.bindings);
      log_info() << "rescan: " << changed << " egress IPs added or removed";
    } catch (const std::exception& e) {
      log_error() << "rescan failed, keeping the running pool: " << e.what();
    }
  };
  context.renew = [&] { asio::post(io, rescan); };

  PoolEgressSource egress_source(selector, engine);
  proxy::Server::Options proxy_options;
  const bool per_ip_logs = config_.access_log_path.find("%s") != std::string::npos;
  proxy_options.reserved_descriptors = descriptors_besides_the_proxy(
      config_, per_ip_logs ? upstream.egresses.size() : 1, fd_limit.soft);
  proxy::Server proxy(config_, egress_source, decisions, *registry, proxy_options);
  context.selector = &selector;
  context.traffic = [&proxy, &decisions] {
    const auto relayed = proxy.relayed_bytes();
    return probe::TrafficTotals{proxy.active_connections(), decisions.total(), relayed.up,
                                relayed.down};
  };
  probe::ServerOptions probe_options = probe::options_from(config_);
  probe_options.log = [](std::string_view m) { log_warn() << "probe: " << m; };
  probe::Server probe_server(io, context, probe_options);

  logs.start();  // parse mode replays here, before any traffic is taken
  proxy.start();
  log_info() << "proxy: " << proxy.workers() << (proxy.workers() == 1 ? " worker (" : " workers (")
             << proxy.workers_why() << ")";
  (proxy.descriptors().limited_by_descriptors() ? log_warn() : log_info())
      << "proxy: " << describe(proxy.descriptors());
  probe_server.start();
  log_info() << "ipmanager running: " << upstream.egresses.size() << " egress IPs, mode "
             << config::to_string(config_.mode) << ", probe http://"
             << probe_server.local_endpoint() << ", proxy " << proxy.local_endpoint() << " -> "
             << config_.next << ":PORT";

  // Housekeeping: release cooled-down IPs when no event arrives, flush line counts.
  // scan_interval_min bounds the period; a second keeps second-scale cooldowns exact.
  asio::steady_timer housekeeping(io);
  const auto period = std::min<config::Millis>(config_.scan_interval, std::chrono::seconds(1));
  std::function<void()> schedule = [&] {
    housekeeping.expires_after(period);
    housekeeping.async_wait([&](const boost::system::error_code& ec) {
      if (ec)
        return;
      engine.tick(pool::Clock::now());
      logs.flush_counts();
      schedule();
    });
  };
  schedule();

  asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  asio::signal_set hup(io, SIGHUP);
  stop_signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec)
      return;
    log_info() << "signal " << signo << ": stopping; draining proxied connections for up to "
               << config::format_duration(config_.drain_timeout);
    hup.cancel();
    housekeeping.cancel();
    probe_server.stop();
    logs.stop();
    proxy.stop();
  });
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec)
        return;
      try {
        const config::Config next = reload_();
        apply_live_changes(config_, next);
        set_debug(config_.debug);
        context.set_config(config_);
        if (selector.policy() != config_.selection)
          selector.set_policy(config_.selection);
        engine.update([&](strategy::Engine& e) { e.reconfigure(config_); });
        log_info() << "SIGHUP: configuration reloaded";
      } catch (const std::exception& e) {
        log_error() << "SIGHUP: reload failed, keeping the running configuration: " << e.what();
      }
      rescan();
      wait_hup();
    });
  };
  wait_hup();

  io.run();
  proxy.wait();
  log_info() << "stopped";
  return 0;
}

}  // namespace ipm::app
