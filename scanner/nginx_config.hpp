#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "scanner/nginx_error.hpp"

namespace ipm::scanner {

/// One nginx directive: `name args...;` or `name args... { block }`. Includes are already
/// expanded in place, as nginx does, so a tree never holds an `include` directive.
struct NginxDirective {
  std::string name;
  std::vector<std::string> args;
  std::vector<NginxDirective> block;
  bool has_block = false;
  SourceLocation where;
};

/// Reads an nginx config file into a directive tree, following `include` directives (globs
/// allowed; a relative pattern is looked up next to the including file, then next to the
/// root file, which is nginx's conf prefix when the root is nginx.conf).
/// The file may also be the output of `nginx -T` (several files, each after a
/// "# configuration file PATH:" line): includes then resolve inside the dump.
/// Throws NginxConfigError with file:line on unbalanced braces, an unterminated string, a
/// missing include file, an include cycle, or a file that cannot be read.
std::vector<NginxDirective> read_nginx_config(const std::filesystem::path& path);

/// Parses config text held in memory (`name` is used in messages). Includes resolve on the
/// filesystem relative to `name`'s folder, or inside the text when it is an `nginx -T` dump.
std::vector<NginxDirective> parse_nginx_config(std::string_view text, const std::string& name);

}  // namespace ipm::scanner
