#pragma once

#include <map>
#include <string>

#include <prometheus/registry.h>

namespace ipm::test {

/// The value of the counter `family` whose labels include every one of `labels`, as
/// `registry` holds it now; -1 when no such series exists. Header-only: only the tests that
/// read a registry link prometheus-cpp.
inline double counter_value(prometheus::Registry& registry, const std::string& family,
                            const std::map<std::string, std::string>& labels) {
  for (const auto& f : registry.Collect()) {
    if (f.name != family)
      continue;
    for (const auto& m : f.metric) {
      std::size_t matched = 0;
      for (const auto& l : m.label) {
        const auto want = labels.find(l.name);
        matched += want != labels.end() && want->second == l.value ? 1 : 0;
      }
      if (matched == labels.size())
        return m.counter.value;
    }
  }
  return -1;
}

}  // namespace ipm::test
