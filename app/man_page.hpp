#pragma once

#include <string>
#include <string_view>

namespace ipm::app {

/// ipmanager(8) in roff: synopsis, options, signals, files and the configuration keys,
/// each with its default and meaning from the same schema as the README's reference
/// (config/schema.cpp), so the two cannot drift apart.
std::string man_page(std::string_view version);

/// The README's config reference table (markdown) from the same schema.
std::string readme_table();

}  // namespace ipm::app
