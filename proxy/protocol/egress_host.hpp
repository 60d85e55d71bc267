#pragma once

#include <string_view>

namespace ipm::protocol {

/// The target host a tcp client names among its first bytes, for health per target site:
/// the value of an `X-Egress-Host` header, else of `Host`, in an HTTP/1.x request head.
///
/// Bounded and never waiting: it looks only at `first_bytes` (what arrived with the proxy's
/// first read, before the dial), and only at complete header lines (ending in LF) before the
/// blank line that ends the head. Anything that is not an HTTP/1.x request (TLS, SSH, binary),
/// a header line without a colon, or a head cut short before either header returns "". The
/// result points into `first_bytes` and is trimmed of spaces and tabs; header names are
/// matched case-insensitively; the first occurrence of each header wins. Pure; table-tested
/// and fuzzed.
std::string_view egress_host_in_first_bytes(std::string_view first_bytes);

}  // namespace ipm::protocol
