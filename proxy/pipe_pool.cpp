#include "proxy/pipe_pool.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace ipm::proxy {

PipePool::~PipePool() {
  for (const auto& [read, write] : free_) {
    ::close(read);
    ::close(write);
  }
}

PipePool::Lease PipePool::take() {
  if (!free_.empty()) {
    const auto [read, write] = free_.back();
    free_.pop_back();
    return Lease(this, read, write);
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0)
    return Lease();
  return Lease(this, fds[0], fds[1]);
}

void PipePool::give_back(int read, int write, bool empty) {
  if (empty && free_.size() < max_free_) {
    free_.emplace_back(read, write);
    return;
  }
  ::close(read);
  ::close(write);
}

void PipePool::Lease::reset() {
  if (read_ < 0)
    return;
  pool_->give_back(read_, write_, held == 0);
  read_ = write_ = -1;
  held = 0;
}

}  // namespace ipm::proxy
