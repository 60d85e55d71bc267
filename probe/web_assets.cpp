#include "probe/web_assets.hpp"

namespace ipm::probe {

const WebAsset* find_web_asset(std::string_view path) {
  for (const WebAsset& a : web_assets()) {
    if (a.path == path)
      return &a;
  }
  return nullptr;
}

}  // namespace ipm::probe
