#include "scanner/nginx_error.hpp"

namespace ipm::scanner {

std::string SourceLocation::to_string() const {
  std::string s = line == 0 ? file : file + ":" + std::to_string(line);
  if (!container.empty()) {
    s += " (" + container + ":" + std::to_string(container_line) + ")";
  }
  return s;
}

}  // namespace ipm::scanner
