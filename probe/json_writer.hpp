#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "pool/time.hpp"

namespace ipm::probe {

// Appending JSON writers for the hot views (/probe with 1,000 IPs x 1,000 entries), which
// build text directly instead of a DOM: no per-entry allocation. Pure functions.

/// Appends `s` as a JSON string literal. Control characters are escaped; bytes that are not
/// valid UTF-8 (log lines are arbitrary bytes) become U+FFFD, so the output is always
/// valid JSON, as Go's encoding/json does.
void append_json_string(std::string& out, std::string_view s);

/// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD (for metric label
/// values, which must be UTF-8).
std::string to_valid_utf8(std::string_view s);

/// Appends an integer.
void append_json_int(std::string& out, std::int64_t v);

/// Appends a double in its shortest round-trip form; NaN and infinities become null.
void append_json_double(std::string& out, double v);

/// Appends `t` as a quoted RFC 3339 UTC timestamp with Go's RFC3339Nano layout (fraction
/// without trailing zeros): "2026-11-22T02:48:14.5Z". TimePoint::max() (an open-ended ban)
/// is written as null.
void append_json_time(std::string& out, pool::TimePoint t);

/// Same as append_json_time, for nanoseconds since the Unix epoch.
void append_json_time_ns(std::string& out, std::int64_t ns);

}  // namespace ipm::probe
