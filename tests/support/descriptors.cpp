#include "tests/support/descriptors.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <string>

namespace ipm::test {

int highest_open_fd() {
  int highest = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    highest = std::max(highest, std::stoi(entry.path().filename().string()));
  return highest;
}

OutOfDescriptors::OutOfDescriptors() {
  if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0)
    throw std::runtime_error("getrlimit failed");
  rlimit low = saved_;
  low.rlim_cur = static_cast<rlim_t>(highest_open_fd() + 16);
  if (::setrlimit(RLIMIT_NOFILE, &low) != 0)
    throw std::runtime_error("setrlimit failed");
  for (;;) {  // bounded by the low limit
    const int fd = ::dup(0);
    if (fd < 0)
      break;
    taken_.push_back(fd);
  }
  exhausted_ = errno == EMFILE;
}

OutOfDescriptors::~OutOfDescriptors() {
  give_back();
}

void OutOfDescriptors::give_back(std::size_t n) {
  for (; n > 0 && !taken_.empty(); --n) {
    ::close(taken_.back());
    taken_.pop_back();
  }
}

void OutOfDescriptors::give_back() {
  for (const int fd : taken_)
    ::close(fd);
  taken_.clear();
  ::setrlimit(RLIMIT_NOFILE, &saved_);
}

ProcessCpuTime::ProcessCpuTime(pid_t pid)
    : stat_(
          ::open(pid == 0 ? "/proc/self/stat" : ("/proc/" + std::to_string(pid) + "/stat").c_str(),
                 O_RDONLY | O_CLOEXEC)) {
  if (stat_ < 0)
    throw std::runtime_error("cannot open /proc/PID/stat: " + std::string(std::strerror(errno)));
}

ProcessCpuTime::~ProcessCpuTime() {
  ::close(stat_);
}

std::chrono::milliseconds ProcessCpuTime::used() const {
  std::array<char, 1024> text{};
  const ssize_t n = ::pread(stat_, text.data(), text.size() - 1, 0);
  const char* name_end = n > 0 ? std::strrchr(text.data(), ')') : nullptr;
  if (name_end == nullptr)
    throw std::runtime_error("cannot read /proc/PID/stat");
  // After the command name's ')': state is field 3, utime 14 and stime 15 (clock ticks).
  std::istringstream fields(name_end + 1);
  std::string field;
  long long ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i >= 14)
      ticks += std::stoll(field);
  }
  return std::chrono::milliseconds(ticks * 1000 / ::sysconf(_SC_CLK_TCK));
}

}  // namespace ipm::test
