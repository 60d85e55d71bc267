#pragma once

#include <iosfwd>

#include "config/config.hpp"

namespace ipm::app {

/// --check: validates what can be validated without starting anything and prints a short
/// summary to `out`, problems to `err`. Returns the process exit code (0 good, 1 bad).
int run_check(const config::Config& config, std::ostream& out, std::ostream& err);

}  // namespace ipm::app
