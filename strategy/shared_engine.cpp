#include "strategy/shared_engine.hpp"

namespace ipm::strategy {

SharedEngine::SharedEngine(const config::Config& cfg, pool::Selector& selector,
                           std::vector<pool::Egress> egresses, pool::TimePoint now)
    : engine_(cfg, std::move(egresses), now), selector_(selector) {
  std::lock_guard lock(mutex_);
  after_change();
}

void SharedEngine::set_decision_sink(DecisionSink sink) {
  std::lock_guard lock(mutex_);
  sink_ = std::move(sink);
}

void SharedEngine::apply(const pool::LogEvent& e) {
  update([&](Engine& engine) { engine.apply(e); });
}

void SharedEngine::apply(std::span<const pool::LogEvent> batch) {
  update([&](Engine& engine) { engine.apply(batch); });
}

void SharedEngine::apply(const pool::DialOutcome& d) {
  update([&](Engine& engine) { engine.apply(d); });
}

void SharedEngine::tick(pool::TimePoint now) {
  update([&](Engine& engine) { engine.tick(now); });
}

bool SharedEngine::ban(std::string_view ip, pool::TimePoint until, std::string reason,
                       pool::TimePoint now) {
  return update([&](Engine& engine) { return engine.ban(ip, until, std::move(reason), now); });
}

bool SharedEngine::unban(std::string_view ip, pool::TimePoint now) {
  return update([&](Engine& engine) { return engine.unban(ip, now); });
}

bool SharedEngine::reset(std::string_view ip, pool::TimePoint now) {
  return update([&](Engine& engine) { return engine.reset(ip, now); });
}

bool SharedEngine::set_weight(std::string_view ip, std::uint32_t weight, pool::TimePoint now) {
  return update([&](Engine& engine) { return engine.set_weight(ip, weight, now); });
}

bool SharedEngine::set_present(std::string_view ip, bool present, pool::TimePoint now) {
  return update([&](Engine& engine) { return engine.set_present(ip, present, now); });
}

std::size_t SharedEngine::reload(std::vector<pool::Egress> egresses, pool::TimePoint now) {
  return update([&](Engine& engine) { return engine.reload(std::move(egresses), now); });
}

void SharedEngine::hold_snapshots() {
  std::lock_guard lock(mutex_);
  snapshots_held_ = true;
}

void SharedEngine::release_snapshots() {
  std::lock_guard lock(mutex_);
  snapshots_held_ = false;
  after_change();
}

void SharedEngine::after_change() {
  if (!snapshots_held_ && engine_.selection_version() != published_version_) {
    published_version_ = engine_.selection_version();
    selector_.publish(engine_.snapshot());
  }
  if (engine_.last_decision_seq() == reported_seq_)
    return;
  if (sink_) {
    for (const auto& d : engine_.decisions_after(reported_seq_))
      sink_(d);
  }
  reported_seq_ = engine_.last_decision_seq();
}

}  // namespace ipm::strategy
