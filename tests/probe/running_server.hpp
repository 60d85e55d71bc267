#pragma once

#include <chrono>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "probe/server.hpp"

namespace ipm::test {

// Runs a probe server on two threads for the test's lifetime; stops and joins on exit.
class RunningServer {
 public:
  RunningServer(probe::Context& context, probe::ServerOptions options)
      : server_(io_, context, with_defaults(std::move(options))) {
    server_.start();
    for (int i = 0; i < 2; ++i)
      threads_.emplace_back([this] { io_.run(); });
  }
  ~RunningServer() {
    server_.stop();
    work_.reset();
    // Sessions end on their own once their sockets are closed; bound the wait anyway.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!io_.stopped() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    io_.stop();
  }

  std::uint16_t port() const { return server_.local_endpoint().port(); }
  probe::Server& server() { return server_; }

 private:
  static probe::ServerOptions with_defaults(probe::ServerOptions o) {
    o.host = "127.0.0.1";
    o.port = 0;
    if (!o.log)
      o.log = [](std::string_view) {};
    return o;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  probe::Server server_;
  std::vector<std::jthread> threads_;
};

}  // namespace ipm::test
