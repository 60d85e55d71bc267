#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <vector>

namespace ipm::test {

/// Runs this process out of file descriptors: lowers the soft RLIMIT_NOFILE to a little above
/// the highest open descriptor and takes every one left. give_back() (or the destructor) frees
/// them and restores the limit, also when an assertion fails. Not thread-safe.
class OutOfDescriptors {
 public:
  OutOfDescriptors();
  ~OutOfDescriptors();
  OutOfDescriptors(const OutOfDescriptors&) = delete;
  OutOfDescriptors& operator=(const OutOfDescriptors&) = delete;

  /// True when the last try to take a descriptor failed with EMFILE.
  bool exhausted() const { return exhausted_; }
  /// Frees `n` of the descriptors taken (the limit stays low).
  void give_back(std::size_t n);
  /// Frees them all and restores the limit.
  void give_back();

 private:
  rlimit saved_{};
  std::vector<int> taken_;
  bool exhausted_ = false;
};

/// CPU time (user + system) a process has used, from /proc/PID/stat, read through a
/// descriptor opened by the constructor: it still works once descriptors run out.
class ProcessCpuTime {
 public:
  explicit ProcessCpuTime(pid_t pid = 0);  ///< 0: this process
  ~ProcessCpuTime();
  ProcessCpuTime(const ProcessCpuTime&) = delete;
  ProcessCpuTime& operator=(const ProcessCpuTime&) = delete;

  /// Throws std::runtime_error when the process is gone.
  std::chrono::milliseconds used() const;

 private:
  int stat_ = -1;
};

/// The highest descriptor this process has open.
int highest_open_fd();

}  // namespace ipm::test
