#include "config/json_view.hpp"

#include <boost/json.hpp>

#include "config/schema.hpp"

namespace ipm::config {

boost::json::object to_json(const Config& config) {
  boost::json::object out;
  for (const auto& spec : schema()) {
    if (spec.deprecated)
      continue;
    out[spec.name] = spec.show(config);
  }
  return out;
}

}  // namespace ipm::config
