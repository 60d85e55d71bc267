#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/system/error_code.hpp>

namespace ipm::proxy {

/// Resolves domain destinations without blocking a worker: getaddrinfo(3) runs on a small pool
/// of threads shared by every worker (so /etc/hosts, nsswitch and resolv.conf apply as for any
/// program), and the result is posted back to the asking coroutine's executor. Asio's own
/// async_resolve does the same on one private thread per io_context, which would queue every
/// lookup of a worker behind its slowest one; a pool lets `threads` slow lookups run at once.
/// Lookups waiting for a thread are capped (`max_pending`): beyond it a lookup fails at once
/// with `no_buffer_space` rather than queueing without bound. Thread-safe.
class Resolver {
 public:
  using Addresses = std::vector<boost::asio::ip::address>;
  using Done = std::function<void(boost::system::error_code, Addresses)>;

  explicit Resolver(std::size_t threads, std::size_t max_pending = 4096);
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;
  /// Waits for the lookups in progress (each bounded by the system resolver's timeouts);
  /// queued ones complete with operation_aborted.
  ~Resolver();

  /// Resolves `host` (A and AAAA, TCP); the completion runs on `executor` with the addresses
  /// in the system's preferred order, or host_not_found / try_again. The lookup counts as
  /// work of the executor's io_context until it completes, so that context does not run out
  /// of work (and get destroyed) while a lookup may still post to it.
  template <class Token>
  auto resolve(boost::asio::any_io_executor executor, std::string host, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, Addresses)>(
        [this, executor](auto handler, std::string h) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          boost::asio::any_io_executor working =
              boost::asio::prefer(executor, boost::asio::execution::outstanding_work.tracked);
          enqueue(std::move(h), [working, shared](boost::system::error_code ec, Addresses a) {
            boost::asio::post(
                working, [shared, ec, a = std::move(a)]() mutable { (*shared)(ec, std::move(a)); });
          });
        },
        token, std::move(host));
  }

  /// The blocking lookup the threads run (exposed for tests).
  static boost::system::error_code lookup(const std::string& host, Addresses& out);

 private:
  struct Job {
    std::string host;
    Done done;
  };
  void enqueue(std::string host, Done done);
  void run();

  const std::size_t max_pending_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ipm::proxy
