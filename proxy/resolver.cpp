#include "proxy/resolver.hpp"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

#include <boost/asio/error.hpp>

namespace ipm::proxy {

Resolver::Resolver(std::size_t threads, std::size_t max_pending) : max_pending_(max_pending) {
  for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
    threads_.emplace_back([this] { run(); });
}

Resolver::~Resolver() {
  std::deque<Job> abandoned;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    abandoned.swap(jobs_);
  }
  ready_.notify_all();
  for (auto& t : threads_)
    t.join();
  for (auto& job : abandoned)
    job.done(boost::asio::error::operation_aborted, {});
}

void Resolver::enqueue(std::string host, Done done) {
  {
    std::lock_guard lock(mutex_);
    if (!stopping_ && jobs_.size() < max_pending_) {
      jobs_.push_back(Job{std::move(host), std::move(done)});
      ready_.notify_one();
      return;
    }
  }
  done(boost::asio::error::no_buffer_space, {});
}

void Resolver::run() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_)
        return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Addresses addresses;
    const auto ec = lookup(job.host, addresses);
    job.done(ec, std::move(addresses));
  }
}

boost::system::error_code Resolver::lookup(const std::string& host, Addresses& out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_ADDRCONFIG;
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &result);
  if (rc != 0) {
    return rc == EAI_AGAIN ? boost::asio::error::host_not_found_try_again
                           : boost::asio::error::host_not_found;
  }
  for (const addrinfo* ai = result; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(ai->ai_addr);
      boost::asio::ip::address_v4::bytes_type b;
      std::memcpy(b.data(), &sin->sin_addr, 4);
      out.emplace_back(boost::asio::ip::address_v4(b));
    } else if (ai->ai_family == AF_INET6) {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(ai->ai_addr);
      boost::asio::ip::address_v6::bytes_type b;
      std::memcpy(b.data(), &sin6->sin6_addr, 16);
      out.emplace_back(boost::asio::ip::address_v6(b));
    }
  }
  ::freeaddrinfo(result);
  return out.empty() ? boost::asio::error::host_not_found : boost::system::error_code{};
}

}  // namespace ipm::proxy
