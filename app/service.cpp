#include "app/service.hpp"

#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <iterator>
#include <optional>
#include <set>
#include <thread>

#include <prometheus/registry.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "app/action_journal.hpp"
#include "app/address_watch.hpp"
#include "app/check_metrics.hpp"
#include "app/decision_logger.hpp"
#include "app/descriptor_limit.hpp"
#include "app/dns_forwarder.hpp"
#include "app/egress_checker.hpp"
#include "app/egresses.hpp"
#include "app/exposure.hpp"
#include "app/gateway_firewall.hpp"
#include "app/log.hpp"
#include "app/log_pipeline.hpp"
#include "app/pool_egress_source.hpp"
#include "app/process_collector.hpp"
#include "app/readiness.hpp"
#include "app/reload_status.hpp"
#include "app/stats_block.hpp"
#include "app/systemd_notify.hpp"
#include "app/version.hpp"
#include "clients/source_ip_rules.hpp"
#include "config/errors.hpp"
#include "config/json_view.hpp"
#include "config/schema.hpp"
#include "pool/decision_log.hpp"
#include "pool/selector.hpp"
#include "probe/context.hpp"
#include "probe/pool_collector.hpp"
#include "probe/server.hpp"
#include "probe/server_options.hpp"
#include "proxy/resolver.hpp"
#include "proxy/server.hpp"
#include "scanner/upstream_config.hpp"
#include "strategy/operator_command.hpp"
#include "strategy/shared_engine.hpp"

namespace ipm::app {
namespace asio = boost::asio;

namespace {

scanner::UpstreamConfig read_upstream(const config::Config& c) {
  if (c.upstream_conf_path.empty())
    return {};  // no nginx pool: dispatch mode
  scanner::UpstreamConfig upstream = scanner::parse_upstream_config(c.upstream_conf_path);
  for (const auto& w : upstream.warnings)
    log_warn() << "upstream config: " << w;
  // The config's weights (the operator's API weights win over them in the engine).
  std::set<std::string> weighted;
  for (auto* list : {&upstream.egresses, &upstream.bindings}) {
    for (auto& e : *list) {
      if (const auto w = c.weights.find(e.ip); w != c.weights.end()) {
        e.weight = w->second;
        weighted.insert(e.ip);
      }
    }
  }
  for (const auto& [id, w] : c.weights) {
    if (!weighted.contains(id))
      log_warn() << "weights: " << id << " is not an egress of the pool config";
  }
  log_info() << "upstream config " << c.upstream_conf_path << ": " << upstream.egresses.size()
             << " egress IPs on " << upstream.bindings.size() << " ports"
             << (upstream.ignored_blocks ? ", " + std::to_string(upstream.ignored_blocks) +
                                               " server blocks without an egress ignored"
                                         : "");
  return upstream;
}

// All of `text` on stdout (the statistics block: a report for the operator, not a log line).
void write_stdout(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;  // stdout closed: nobody reads the report
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The per-client rules of `path` ("" for none: null). A bad file throws naming the key, the
// file, the entry and the problem, before anything is applied.
std::shared_ptr<const clients::SourceIpRules> load_source_ip_rules(const std::string& path) {
  if (path.empty())
    return nullptr;
  try {
    return std::make_shared<const clients::SourceIpRules>(clients::SourceIpRules::load(path));
  } catch (const std::exception& e) {
    throw config::ConfigError("source_ip_rules", e.what());
  }
}

// "source_ip_rules: 4 rules for 2 egresses (PATH)", with a warning for each egress the rules
// name that the pool does not have (a typo there would silently never apply).
std::string describe_rules(const std::string& path, const clients::SourceIpRules* rules,
                           const std::vector<pool::Egress>& egresses) {
  if (rules == nullptr)
    return "no source_ip_rules";
  for (const auto& er : rules->egresses()) {
    if (std::none_of(egresses.begin(), egresses.end(),
                     [&](const pool::Egress& e) { return e.ip == er.egress; }))
      log_warn() << "source_ip_rules: " << er.egress << " is not an egress of the pool";
  }
  return "source_ip_rules: " + std::to_string(rules->rule_count()) + " rules for " +
         std::to_string(rules->egresses().size()) + " egresses (" + path + ")";
}

// Applies the live keys of `next` to `running` (the schema says which keys are live) and
// returns the changed keys, live or waiting for a restart, as a sentence for the log.
// Secrets are compared as they are and named without their value.
std::string apply_live_changes(config::Config& running, const config::Config& next) {
  std::string applied;
  std::string pending;
  for (const config::KeySpec& k : config::schema()) {
    if (k.deprecated || !k.equal || k.equal(running, next))
      continue;
    std::string& list = k.live ? applied : pending;
    list += (list.empty() ? "" : ", ") + std::string(k.name);
    if (k.live)
      k.copy(next, running);
  }
  if (applied.empty() && pending.empty())
    return "no key changed";
  std::string out;
  if (!applied.empty())
    out = "applied " + applied;
  if (!pending.empty())
    out += (out.empty() ? "" : "; ") + std::string("on restart: ") + pending;
  return out;
}

std::set<std::string> ips_of(const std::vector<pool::Egress>& egresses) {
  std::set<std::string> ips;
  for (const auto& e : egresses)
    ips.insert(e.ip);
  return ips;
}

// "2 added (a, b), 1 removed (c)": what a rescan changed, the first few IPs named.
std::string pool_change(const std::vector<pool::Egress>& before,
                        const std::vector<pool::Egress>& after) {
  const auto old_ips = ips_of(before);
  const auto new_ips = ips_of(after);
  auto list = [](const std::set<std::string>& from, const std::set<std::string>& minus) {
    std::vector<std::string> out;
    std::set_difference(from.begin(), from.end(), minus.begin(), minus.end(),
                        std::back_inserter(out));
    return out;
  };
  auto describe = [](const std::vector<std::string>& ips, std::string_view what) {
    constexpr std::size_t kNamed = 5;
    std::string text = std::to_string(ips.size()) + " " + std::string(what);
    for (std::size_t i = 0; i < ips.size() && i < kNamed; ++i)
      text += (i == 0 ? " (" : ", ") + ips[i];
    if (!ips.empty())
      text += ips.size() > kNamed ? ", ...)" : ")";
    return text;
  };
  return std::to_string(new_ips.size()) + " egress IPs, " +
         describe(list(new_ips, old_ips), "added") + ", " +
         describe(list(old_ips, new_ips), "removed");
}

// "ban 10.0.3.7 for 30m by 127.0.0.1: abuse-report" for the log.
std::string describe(const pool::OperatorAction& a) {
  std::string text = std::string(to_string(a.kind)) + " " + a.ip;
  if (a.kind == pool::OperatorAction::Kind::ban) {
    text += a.until == pool::TimePoint::max()
                ? " until unbanned"
                : " for " + strategy::format_duration(a.until - a.time);
  }
  if (a.kind == pool::OperatorAction::Kind::weight)
    text += " to " + std::to_string(a.weight) + (a.weight == 0 ? " (drained)" : "");
  text += " by " + (a.client.empty() ? std::string("?") : a.client);
  if (!a.reason.empty())
    text += ": " + a.reason;
  return text;
}

// Loads the journal, keeps what is still in force, writes that back when it changed and
// applies it to the engine before any traffic. Returns why operator actions cannot be
// journaled, when they cannot: reported, never fatal.
std::optional<std::string> replay_journal(ActionJournal& journal, strategy::SharedEngine& engine,
                                          pool::TimePoint now) {
  try {
    ActionJournal::Loaded loaded = journal.load();
    for (const auto& p : loaded.problems)
      log_error() << "journal: " << p;
    const auto kept = strategy::in_force(loaded.actions, now);
    engine.update([&](strategy::Engine& e) {
      for (const auto& a : kept) {
        if (!strategy::apply(e, a))
          log_warn() << "journal: " << describe(a) << ": not in the pool; kept for its return";
      }
    });
    journal.compact(loaded, kept);
    log_info() << "journal " << journal.path().string() << ": " << kept.size()
               << " operator actions in force (of " << loaded.actions.size() << " read)";
    return std::nullopt;
  } catch (const std::exception& e) {
    log_error() << "journal: " << e.what()
                << "; operator actions are refused until state_dir is writable";
    return std::string(e.what());
  }
}

// The whole pool: the nginx egresses of the upstream config, then those of `egresses:`.
// Throws config::ConfigError naming the entry that cannot be built.
std::vector<pool::Egress> all_egresses(const config::Config& c,
                                       const scanner::UpstreamConfig& upstream) {
  std::vector<pool::Egress> out = upstream.egresses;
  std::vector<std::string> warnings;
  auto more = build_egresses(c, proxy::interface_addresses(), warnings);
  for (const auto& w : warnings)
    log_warn() << w;
  for (std::size_t i = 0; i < more.size(); ++i) {
    pool::Egress& e = more[i];
    // One id, one state: a source IP that nginx also binds would share it.
    if (std::any_of(upstream.egresses.begin(), upstream.egresses.end(),
                    [&](const pool::Egress& n) { return n.ip == e.ip; }))
      throw config::ConfigError("egresses[" + std::to_string(i) + "]",
                                e.ip + " is also an egress IP of " + c.upstream_conf_path);
    log_info() << config::to_string(e.kind) << " egress " << e.ip
               << (e.interface.empty() ? "" : " on " + e.interface) << ", weight " << e.weight;
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

Service::Service(config::Config config, ConfigSource reload)
    : config_(std::move(config)), reload_(std::move(reload)) {}

Service::~Service() = default;

int Service::run() {
  const auto start = pool::Clock::now();
  const DescriptorLimit fd_limit = raise_descriptor_limit();
  (fd_limit.error.empty() ? log_info() : log_warn()) << describe(fd_limit);
  Readiness readiness;
  scanner::UpstreamConfig upstream = read_upstream(config_);
  const auto initial_rules = load_source_ip_rules(config_.source_ip_rules);
  readiness.pool_config_read();

  auto registry = std::make_shared<prometheus::Registry>();
  ReloadStatus reload_status(*registry);
  pool::Selector selector(config_.selection);
  // The whole pool: nginx's egresses and those of `egresses:` (kept for rescans to compare).
  std::vector<pool::Egress> egresses = all_egresses(config_, upstream);
  strategy::SharedEngine engine(config_, selector, egresses, start);
  engine.set_decision_sink(log_decision);
  pool::DecisionLog decisions(config_.decisions_kept);
  ActionJournal journal(config_.state_dir);
  const std::optional<std::string> journal_broken = replay_journal(journal, engine, start);

  // One thread runs the tailer, the probe and the housekeeping timer; the proxy runs its
  // own threads (one per usable CPU) and meets the rest only in the lock-free snapshot and the
  // engine's short critical sections.
  asio::io_context io(1);
  // Only an nginx pool has a log to follow.
  const bool nginx = !config_.upstream_conf_path.empty();
  std::optional<LogPipeline> logs;
  if (nginx)
    logs.emplace(io.get_executor(), config_, upstream.bindings, engine, *registry);
  readiness.set_logs(
      [&logs] { return logs ? logs->files() : std::vector<scanner::FollowedFile>{}; });

  probe::Context context(config_);
  context.engine = &engine;
  context.decisions = &decisions;
  context.collectables.push_back(registry);
  context.collectables.push_back(std::make_shared<probe::PoolCollector>(
      engine, probe::BuildInfo{kVersion, kRevision},
      [](const std::string& m) { log_warn() << "metrics: " << m; }));
  context.readiness = [&readiness] { return readiness.waiting_for(); };
  context.collectables.push_back(std::make_shared<ProcessCollector>());
  context.journal = [&](const pool::OperatorAction& a) -> std::optional<std::string> {
    if (journal_broken)
      return *journal_broken;
    try {
      journal.append(a);
    } catch (const std::exception& e) {
      log_error() << "operator " << to_string(a.kind) << " " << a.ip << " by " << a.client
                  << " refused: cannot journal it: " << e.what();
      return std::string(e.what());
    }
    log_info() << "operator " << describe(a);
    return std::nullopt;
  };

  // Source egresses leave selection the moment their address or link leaves the host, and
  // come back with it (rtnetlink), before a client's dial has to fail on them. Started before
  // the proxy (below), so that a source whose address is on no interface is never offered.
  AddressWatch addresses(io.get_executor(), egresses,
                         [&engine](const std::string& id, bool present) {
                           engine.set_present(id, present, pool::Clock::now());
                         });
  // Active checks of the source and upstream egresses that have one, counted by result.
  CheckMetrics check_metrics(*registry);
  std::optional<proxy::Resolver> check_resolver;
  std::optional<EgressChecker> checker;
  // The checks of `config_.egresses` as the pool holds them now: created with the first one,
  // replaced when a reload or a rescan changes them.
  auto follow_checks = [&] {
    // The source and upstream egresses are the last of the pool, in config order.
    std::vector<CheckTarget> checks = check_targets(
        config_, std::span(egresses).last(std::min(egresses.size(), config_.egresses.size())));
    const auto now = pool::Clock::now();
    if (checker) {
      if (checker->set_targets(std::move(checks), now))
        log_info() << checker->size() << " egress checks (changed by the reload)";
      return;
    }
    if (checks.empty())
      return;
    log_info() << checks.size() << " egress checks";
    check_resolver.emplace(1);
    checker.emplace(
        io.get_executor(), std::move(checks), *check_resolver, config_.dial_timeout,
        [&engine, &check_metrics](const pool::DialOutcome& o) {
          check_metrics.count(o);
          engine.apply(o);
        },
        now);
    checker->start();
  };

  // A new pool, already read and built: the engine, the line parser, the address watch and
  // the checks take it.
  auto apply_pool = [&](scanner::UpstreamConfig next, std::vector<pool::Egress> next_egresses) {
    const std::string change = pool_change(egresses, next_egresses);
    engine.reload(next_egresses, pool::Clock::now());
    if (logs)
      logs->rebind(next.bindings);
    upstream = std::move(next);
    egresses = std::move(next_egresses);
    addresses.follow(egresses);
    follow_checks();
    return change;
  };
  // POST /api/ip/renew runs on the probe's thread, which is this io_context's: the rescan
  // runs there at once and the answer says how it went.
  context.renew = [&]() -> std::optional<std::string> {
    try {
      scanner::UpstreamConfig next = read_upstream(config_);
      std::vector<pool::Egress> next_egresses = all_egresses(config_, next);
      log_info() << "rescan: " << apply_pool(std::move(next), std::move(next_egresses));
      reload_status.succeeded();
      return std::nullopt;
    } catch (const std::exception& e) {
      log_error() << "rescan failed, keeping the running pool: " << e.what();
      reload_status.failed();
      return std::string("rescan failed, keeping the running pool: ") + e.what();
    }
  };

  PoolEgressSource egress_source(selector, engine, config_.target_grouping);
  egress_source.set_rules(initial_rules);
  if (initial_rules)
    log_info() << describe_rules(config_.source_ip_rules, initial_rules.get(), egresses);
  proxy::Server::Options proxy_options;
  const bool per_ip_logs = config_.access_log_path.find("%s") != std::string::npos;
  proxy_options.reserved_descriptors = descriptors_besides_the_proxy(
      config_, per_ip_logs ? upstream.egresses.size() : 1, fd_limit.soft);
  proxy::Server proxy(config_, egress_source, decisions, *registry, proxy_options);
  context.selector = &selector;
  context.clients = [&proxy] { return proxy.client_limits().counts(); };
  context.traffic = [&proxy, &decisions] {
    const auto relayed = proxy.relayed_bytes();
    return probe::TrafficTotals{proxy.active_connections(), decisions.total(), relayed.up,
                                relayed.down};
  };
  probe::ServerOptions probe_options = probe::options_from(config_);
  probe_options.log = [](std::string_view m) { log_warn() << "probe: " << m; };
  probe::Server probe_server(io, context, probe_options);

  if (logs)
    logs->start();  // parse mode replays here, before any traffic is taken
  readiness.replay_done();
  if (std::string error; !addresses.start(error))
    log_warn() << error << ": source egresses leave only by their failed dials";
  proxy.start();
  // After the listeners are bound, so no redirected client meets a closed port; removed when
  // run() returns or throws (also on SIGTERM, and when a later step of the start fails).
  const GatewayFirewall firewall(config_);
  if (firewall.installed())
    log_info() << firewall.describe();
  std::optional<DnsForwarder> dns;
  if (config_.dns_port != 0) {
    dns.emplace(io.get_executor(), config_, egress_source, *registry);
    dns->start();
    log_info() << "dns: forwarding queries of " << config_.gateway_subnets.size()
               << " subnet(s) on " << dns->local_endpoint() << " (udp and tcp) to "
               << config_.dns_upstreams.size() << " resolver(s)";
  }
  log_info() << "proxy: " << proxy.workers() << (proxy.workers() == 1 ? " worker (" : " workers (")
             << proxy.workers_why() << ")";
  (proxy.descriptors().limited_by_descriptors() ? log_warn() : log_info())
      << "proxy: " << describe(proxy.descriptors());
  probe_server.start();
  // Before the running line: whoever reads it may signal at once (a SIGHUP before the set
  // exists would end the process, its default action). Asio queues a signal that arrives
  // before the handlers below wait for it.
  asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  asio::signal_set hup(io, SIGHUP);
  asio::signal_set usr1(io, SIGUSR1);
  for (const auto& w : exposure_warnings(config_))
    log_error() << "exposed: " << w;
  if (config_.listen.empty()) {
    // Tests and scripts read the ports from this line: its shape stays.
    log_info() << "ipmanager running: " << egresses.size() << " egress IPs, mode "
               << config::to_string(config_.mode) << ", probe http://"
               << probe_server.local_endpoint() << ", proxy " << proxy.local_endpoint() << " -> "
               << config_.next << ":PORT";
  } else {
    auto line = log_info();
    line << "ipmanager running: " << egresses.size() << " egresses, mode "
         << config::to_string(config_.mode) << ", probe http://" << probe_server.local_endpoint();
    for (std::size_t i = 0; i < config_.listen.size(); ++i)
      line << ", " << config::to_string(config_.listen[i].type) << " " << proxy.local_endpoint(i);
  }

  // systemd's READY=1 and /ready wait for every log: say what is missing, once per change.
  bool ready = false;
  std::string said_waiting;
  auto check_ready = [&] {
    const std::vector<std::string> waiting = readiness.waiting_for();
    if (waiting.empty()) {
      if (!ready) {
        ready = true;
        said_waiting.clear();
        log_info() << "ready: " << egresses.size() << " egress IPs, every log open";
        notify_ready("serving " + std::to_string(egresses.size()) + " egress IPs");
      }
      return;
    }
    std::string text;
    for (const auto& w : waiting)
      text += (text.empty() ? "" : "; ") + w;
    if (text != said_waiting) {
      said_waiting = text;
      log_error() << "not ready: " << text;
      notify_status("not ready: " + text);
    }
    ready = false;
  };
  check_ready();

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
      if (logs)
        logs->flush_counts();
      check_ready();
      schedule();
    });
  };
  schedule();

  // The enhanced go-dispatch-proxy's -stats block on stdout, from the counters /metrics and
  // /api/clients show: every stats_interval, and at once on each SIGUSR1.
  const auto print_stats = [&] {
    const auto rules = egress_source.rules();
    const auto open = proxy.client_limits().counts();
    write_stdout(engine.read([&](const strategy::Engine& e) {
      return stats_block(collect_stats(e, rules.get(), open));
    }));
  };
  std::function<void()> wait_usr1 = [&] {
    usr1.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec)
        return;
      print_stats();
      wait_usr1();
    });
  };
  wait_usr1();
  asio::steady_timer stats_timer(io);
  std::function<void()> schedule_stats = [&] {
    stats_timer.expires_after(config_.stats_interval);
    stats_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec)
        return;
      print_stats();
      schedule_stats();
    });
  };
  if (config_.stats_interval.count() > 0)
    schedule_stats();

  follow_checks();

  // Waits out the proxy's drain off the io thread, so a second signal is still heard.
  std::jthread drain_waiter;
  stop_signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec)
      return;
    log_info() << "signal " << signo << ": stopping; draining proxied connections for up to "
               << config::format_duration(config_.drain_timeout)
               << " (a second SIGTERM or SIGINT cuts them now)";
    notify_stopping();
    if (dns)
      dns->stop();
    hup.cancel();
    usr1.cancel();
    stats_timer.cancel();
    housekeeping.cancel();
    if (checker)
      checker->stop();
    addresses.stop();
    probe_server.stop();
    if (logs)
      logs->stop();
    proxy.stop();
    drain_waiter = std::jthread([&] {
      proxy.wait();
      asio::post(io, [&] { stop_signals.cancel(); });
    });
    // An operator who presses Ctrl-C twice, or a supervisor that signals again, wants the
    // process gone now, not after the drain: the second stop cuts what is still open.
    stop_signals.async_wait([&](const boost::system::error_code& again, int second) {
      if (again)
        return;
      log_warn() << "signal " << second << " during the drain: cutting "
                 << proxy.active_connections() << " open connections now";
      proxy.stop(config::Millis{0});
    });
  });
  // SIGHUP: the config file and the pool config are both read before anything is applied,
  // so a bad one of either leaves everything as it was.
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec)
        return;
      notify_reloading();
      try {
        const config::Config next = reload_();
        scanner::UpstreamConfig next_upstream = read_upstream(next);
        // Built from the new config before any key is applied: a bad egress changes nothing.
        std::vector<pool::Egress> next_egresses = all_egresses(next, next_upstream);
        auto next_rules = load_source_ip_rules(next.source_ip_rules);
        const std::string keys = apply_live_changes(config_, next);
        set_debug(config_.debug);
        set_json(config_.log_style == config::LogStyle::json);
        context.set_config(config_);
        if (selector.policy() != config_.selection)
          selector.set_policy(config_.selection);
        engine.update([&](strategy::Engine& e) { e.reconfigure(config_); });
        const std::string pool = apply_pool(std::move(next_upstream), std::move(next_egresses));
        egress_source.set_rules(next_rules);
        log_info() << "SIGHUP: configuration reloaded: " << keys << "; pool config: " << pool
                   << "; " << describe_rules(config_.source_ip_rules, next_rules.get(), egresses);
        reload_status.succeeded();
      } catch (const std::exception& e) {
        log_error() << "SIGHUP: reload failed, keeping the running configuration and pool: "
                    << e.what();
        reload_status.failed();
      }
      // A reload builds the pool config and the engine's records again beside the old ones,
      // and glibc keeps the heap they freed resident: 62 MB of a 288 MB RSS at 10,000 IPs x
      // 1,000 history entries (tests/bench/large_pool_bench.sh). Give it back to the kernel.
      malloc_trim(0);
      if (ready)
        notify_ready("serving " + std::to_string(egresses.size()) + " egress IPs");
      wait_hup();
    });
  };
  wait_hup();

  io.run();
  if (drain_waiter.joinable())
    drain_waiter.join();
  else
    proxy.wait();
  log_info() << "stopped";
  return 0;
}

}  // namespace ipm::app
