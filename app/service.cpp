#include "app/service.hpp"

#include <csignal>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "app/log.hpp"
#include "config/errors.hpp"

namespace ipm::app {
namespace asio = boost::asio;

Service::Service(config::Config config, ConfigSource reload)
    : config_(std::move(config)), reload_(std::move(reload)) {}

Service::~Service() = default;

int Service::run() {
  asio::io_context io;
  asio::signal_set stop_signals(io, SIGTERM, SIGINT);
  asio::signal_set hup(io, SIGHUP);

  stop_signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec)
      return;
    log_info() << "signal " << signo << ": stopping";
    hup.cancel();
    io.stop();
  });

  // SIGHUP: read the config again; a bad one is reported and the running one kept.
  std::function<void()> wait_hup = [&] {
    hup.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec)
        return;
      try {
        config_ = reload_();
        set_debug(config_.debug);
        log_info() << "SIGHUP: configuration reloaded";
      } catch (const std::exception& e) {
        log_error() << "SIGHUP: reload failed, keeping the running configuration: " << e.what();
      }
      wait_hup();
    });
  };
  wait_hup();

  log_info() << "ipmanager running: probe " << config_.probe_host << ":" << config_.probe_port
             << ", proxy " << config_.proxy_host << ":" << config_.proxy_port;
  io.run();
  log_info() << "stopped";
  return 0;
}

}  // namespace ipm::app
