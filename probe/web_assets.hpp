#pragma once

#include <span>
#include <string_view>

namespace ipm::probe {

/// One file of the web page, embedded in the binary at build time (cmake/EmbedWebAssets.cmake
/// from probe/web/). Every view points into static storage.
struct WebAsset {
  std::string_view path;          ///< "/" for the page, "/assets/<name>" for the rest
  std::string_view content_type;  ///< with charset for text
  std::string_view body;
  std::string_view gzip;       ///< gzip of body; empty when that would not be smaller
  std::string_view etag;       ///< strong ETag of body, quoted
  std::string_view gzip_etag;  ///< of the gzip representation
};

/// Every file of the page.
std::span<const WebAsset> web_assets();

/// The file served at `path`, or nullptr.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace ipm::probe
