#include "strategy/operator_command.hpp"

#include <algorithm>
#include <map>

namespace ipm::strategy {

SiteCommand apply_for_site(Engine& engine, const pool::OperatorAction& a) {
  using Kind = pool::OperatorAction::Kind;
  if (a.target.empty() || a.kind == Kind::weight || a.kind == Kind::disable ||
      a.kind == Kind::enable)
    return apply(engine, a) ? SiteCommand::done : SiteCommand::unknown_ip;
  switch (a.kind) {
    case Kind::ban:
      return engine.ban_site(a.ip, a.target, a.until, a.reason, a.time);
    case Kind::unban:
      return engine.unban_site(a.ip, a.target, a.time);
    case Kind::reset:
      return engine.reset_site(a.ip, a.target, a.time);
    case Kind::weight:
    case Kind::disable:
    case Kind::enable:
      break;
  }
  return SiteCommand::unknown_ip;
}

bool apply(Engine& engine, const pool::OperatorAction& a) {
  using Kind = pool::OperatorAction::Kind;
  if (!a.target.empty() && a.kind != Kind::weight && a.kind != Kind::disable &&
      a.kind != Kind::enable)
    return apply_for_site(engine, a) != SiteCommand::unknown_ip;
  switch (a.kind) {
    case Kind::ban:
      return engine.ban(a.ip, a.until, a.reason, a.time);
    case Kind::unban:
      return engine.unban(a.ip, a.time);
    case Kind::reset:
      return engine.reset(a.ip, a.time);
    case Kind::weight:
      return engine.set_weight(a.ip, a.weight, a.time);
    case Kind::disable:
    case Kind::enable:
      return engine.set_disabled(a.ip, a.kind == Kind::disable, a.time);
  }
  return false;
}

std::vector<pool::OperatorAction> in_force(const std::vector<pool::OperatorAction>& actions,
                                           pool::TimePoint now) {
  using Kind = pool::OperatorAction::Kind;
  struct Kept {
    const pool::OperatorAction* ban = nullptr;
    const pool::OperatorAction* weight = nullptr;
    const pool::OperatorAction* disable = nullptr;  ///< the last disable, unless enabled since
  };
  // Keyed by (IP, target): "" is the egress as a whole, a target one site of it.
  std::map<std::pair<std::string, std::string>, Kept> by_scope;
  for (const auto& a : actions) {
    const bool per_egress =
        a.kind == Kind::weight || a.kind == Kind::disable || a.kind == Kind::enable;
    Kept& k = by_scope[{a.ip, per_egress ? std::string() : a.target}];
    if (a.kind == Kind::ban)
      k.ban = &a;
    else if (a.kind == Kind::weight)
      k.weight = &a;
    else if (a.kind == Kind::disable)
      k.disable = &a;
    else if (a.kind == Kind::enable)
      k.disable = nullptr;
    else
      k.ban = nullptr;  // unban, reset
  }
  std::vector<const pool::OperatorAction*> kept;
  for (const auto& [scope, k] : by_scope) {
    if (k.ban != nullptr && k.ban->until > now)
      kept.push_back(k.ban);
    if (k.weight != nullptr)
      kept.push_back(k.weight);
    if (k.disable != nullptr)
      kept.push_back(k.disable);
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
