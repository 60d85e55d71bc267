#pragma once

#include <boost/json/object.hpp>

#include "config/config.hpp"

namespace ipm::config {

/// The effective config as the Go tool's /config showed it (its keys and units), plus the
/// new keys. Secrets (api_token) are redacted.
boost::json::object to_json(const Config& config);

}  // namespace ipm::config
