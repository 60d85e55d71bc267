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

/// What a tcp client's first bytes say about its egress: the target as above, and the
/// `X-Egress-Key` header's value (sticky sessions, `sticky: key`), "" without one. Read in one
/// pass under the same rules; a line that is not a header ends the reading, keeping only what
/// the X-Egress-* headers before it said.
struct EgressHeaders {
  std::string_view target;
  std::string_view key;
};
EgressHeaders egress_headers_in_first_bytes(std::string_view first_bytes);

}  // namespace ipm::protocol
