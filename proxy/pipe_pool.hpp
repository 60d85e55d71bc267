#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace ipm::proxy {

/// Pipes for splice(2), recycled so that a bulk transfer does not pay pipe2(2) and two close(2)
/// per burst. Only empty pipes come back: one that still holds bytes is closed. Not
/// thread-safe: one pool per worker thread.
class PipePool {
 public:
  /// Keeps at most `max_free` idle pipes (two descriptors each) open for reuse.
  explicit PipePool(std::size_t max_free) : max_free_(max_free) {}
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;
  ~PipePool();

  /// A pipe borrowed from the pool; `held` counts the bytes in it (the lease's user keeps it).
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept
        : held(std::exchange(other.held, 0)),
          pool_(std::exchange(other.pool_, nullptr)),
          read_(std::exchange(other.read_, -1)),
          write_(std::exchange(other.write_, -1)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease() { reset(); }

    explicit operator bool() const { return read_ >= 0; }
    int read_end() const { return read_; }
    int write_end() const { return write_; }
    /// Gives the pipe back (closed instead when it still holds bytes).
    void reset();

    std::size_t held = 0;

   private:
    friend class PipePool;
    Lease(PipePool* pool, int read, int write) : pool_(pool), read_(read), write_(write) {}

    PipePool* pool_ = nullptr;
    int read_ = -1;
    int write_ = -1;
  };

  /// An empty pipe, or an empty Lease when none can be made (out of descriptors): the caller
  /// copies instead.
  Lease take();

 private:
  void give_back(int read, int write, bool empty);

  const std::size_t max_free_;
  std::vector<std::pair<int, int>> free_;
};

}  // namespace ipm::proxy
