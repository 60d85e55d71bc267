#include "probe/context.hpp"

namespace ipm::probe {

Context::Context(config::Config config)
    : config_(std::make_shared<const config::Config>(std::move(config))) {}

std::shared_ptr<const config::Config> Context::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

void Context::set_config(config::Config config) {
  auto next = std::make_shared<const config::Config>(std::move(config));
  std::lock_guard lock(mutex_);
  config_ = std::move(next);
}

}  // namespace ipm::probe
