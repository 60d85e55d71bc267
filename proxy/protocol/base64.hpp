#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ipm::protocol {

/// Standard base64 (RFC 4648, with padding), for HTTP Basic credentials.
std::string base64_encode(std::string_view in);
/// nullopt on a character outside the alphabet or a bad length/padding.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace ipm::protocol
