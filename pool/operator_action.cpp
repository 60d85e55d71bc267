#include "pool/operator_action.hpp"

namespace ipm::pool {

std::string_view to_string(OperatorAction::Kind k) {
  switch (k) {
    case OperatorAction::Kind::ban:
      return "ban";
    case OperatorAction::Kind::unban:
      return "unban";
    case OperatorAction::Kind::reset:
      return "reset";
    case OperatorAction::Kind::weight:
      return "weight";
    case OperatorAction::Kind::disable:
      return "disable";
    case OperatorAction::Kind::enable:
      return "enable";
  }
  return "?";
}

}  // namespace ipm::pool
