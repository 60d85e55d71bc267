#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace ipm::proxy {

/// Relay buffers of one size, recycled so a busy worker does not hit malloc per burst and
/// an idle connection holds none. Not thread-safe: one pool per worker thread.
class BufferPool {
 public:
  /// Keeps at most `max_free` buffers of `buffer_bytes` each for reuse.
  BufferPool(std::size_t buffer_bytes, std::size_t max_free);
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  /// A buffer borrowed from the pool, returned on reset() or destruction.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept : pool_(other.pool_), data_(std::move(other.data_)) {}
    Lease& operator=(Lease&& other) noexcept {
      if (this != &other) {
        reset();
        pool_ = other.pool_;
        data_ = std::move(other.data_);
      }
      return *this;
    }
    Lease(const Lease&) = delete;
    ~Lease() { reset(); }

    explicit operator bool() const { return data_ != nullptr; }
    std::span<std::byte> bytes() const { return {data_.get(), pool_->buffer_bytes_}; }
    void reset();

   private:
    friend class BufferPool;
    Lease(BufferPool* pool, std::unique_ptr<std::byte[]> data)
        : pool_(pool), data_(std::move(data)) {}

    BufferPool* pool_ = nullptr;
    std::unique_ptr<std::byte[]> data_;
  };

  Lease take();
  std::size_t buffer_bytes() const { return buffer_bytes_; }

 private:
  void give_back(std::unique_ptr<std::byte[]> data);

  const std::size_t buffer_bytes_;
  const std::size_t max_free_;
  std::vector<std::unique_ptr<std::byte[]>> free_;
};

}  // namespace ipm::proxy
