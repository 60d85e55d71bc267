#include "proxy/buffer_pool.hpp"

namespace ipm::proxy {

BufferPool::BufferPool(std::size_t buffer_bytes, std::size_t max_free)
    : buffer_bytes_(buffer_bytes), max_free_(max_free) {
  free_.reserve(max_free_);
}

BufferPool::Lease BufferPool::take() {
  if (free_.empty())
    return Lease(this, std::make_unique_for_overwrite<std::byte[]>(buffer_bytes_));
  auto data = std::move(free_.back());
  free_.pop_back();
  return Lease(this, std::move(data));
}

void BufferPool::give_back(std::unique_ptr<std::byte[]> data) {
  if (free_.size() < max_free_)
    free_.push_back(std::move(data));
}

void BufferPool::Lease::reset() {
  if (data_)
    pool_->give_back(std::move(data_));
}

}  // namespace ipm::proxy
