#include "strategy/operator_command.hpp"

#include <algorithm>
#include <map>

namespace ipm::strategy {

bool apply(Engine& engine, const pool::OperatorAction& a) {
  using Kind = pool::OperatorAction::Kind;
  switch (a.kind) {
    case Kind::ban:
      return engine.ban(a.ip, a.until, a.reason, a.time);
    case Kind::unban:
      return engine.unban(a.ip, a.time);
    case Kind::reset:
      return engine.reset(a.ip, a.time);
    case Kind::weight:
      return engine.set_weight(a.ip, a.weight, a.time);
  }
  return false;
}

std::vector<pool::OperatorAction> in_force(const std::vector<pool::OperatorAction>& actions,
                                           pool::TimePoint now) {
  using Kind = pool::OperatorAction::Kind;
  struct Kept {
    const pool::OperatorAction* ban = nullptr;
    const pool::OperatorAction* weight = nullptr;
  };
  std::map<std::string, Kept> by_ip;
  for (const auto& a : actions) {
    Kept& k = by_ip[a.ip];
    if (a.kind == Kind::ban)
      k.ban = &a;
    else if (a.kind == Kind::weight)
      k.weight = &a;
    else
      k.ban = nullptr;  // unban, reset
  }
  std::vector<const pool::OperatorAction*> kept;
  for (const auto& [ip, k] : by_ip) {
    if (k.ban != nullptr && k.ban->until > now)
      kept.push_back(k.ban);
    if (k.weight != nullptr)
      kept.push_back(k.weight);
  }
  // Journal order: the order they were made in.
  std::sort(kept.begin(), kept.end());
  std::vector<pool::OperatorAction> out;
  out.reserve(kept.size());
  for (const auto* a : kept)
    out.push_back(*a);
  return out;
}

}  // namespace ipm::strategy
