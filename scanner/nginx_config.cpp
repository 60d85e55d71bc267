#include "scanner/nginx_config.hpp"

#include <fnmatch.h>
#include <glob.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "scanner/nginx_lexer.hpp"

namespace ipm::scanner {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxIncludeDepth = 32;
constexpr std::string_view kDumpMarker = "# configuration file ";

/// One file's text: a real file, or one section of an `nginx -T` dump.
struct Source {
  std::string name;
  std::string text;
  std::string container;                 ///< the dump's name; empty for a real file
  std::size_t container_first_line = 0;  ///< dump line of the section's line 1
};

std::string read_whole_file(const fs::path& path, const SourceLocation& asked_from) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw NginxConfigError(asked_from,
                           "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    throw NginxConfigError(asked_from, "cannot read " + path.string());
  }
  return std::move(buffer).str();
}

/// Splits `nginx -T` output into its files, or returns nothing when the text is plain config.
/// Lines nginx prints on stderr ("nginx: the configuration file ... syntax is ok") may come
/// first when the dump was captured with 2>&1.
std::optional<std::vector<Source>> split_dump(std::string_view text, const std::string& name) {
  std::vector<Source> sections;
  std::size_t pos = 0;
  std::size_t line = 1;
  while (pos < text.size()) {
    const std::size_t eol = std::min(text.find('\n', pos), text.size());
    const std::string_view l = text.substr(pos, eol - pos);
    const bool marker = l.starts_with(kDumpMarker) && l.ends_with(':');
    if (marker) {
      std::string file(l.substr(kDumpMarker.size(), l.size() - kDumpMarker.size() - 1));
      sections.push_back({std::move(file), {}, name, line + 1});
    } else if (sections.empty()) {
      if (!l.starts_with("nginx: ") && !l.empty()) {
        return std::nullopt;
      }
    } else {
      sections.back().text.append(l);
      sections.back().text += '\n';
    }
    pos = eol + 1;
    ++line;
  }
  if (sections.empty()) {
    return std::nullopt;
  }
  return sections;
}

bool has_glob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

class TreeBuilder {
 public:
  TreeBuilder(std::string root_name, std::vector<Source> dump)
      : root_dir_(fs::path(root_name).parent_path()), dump_(std::move(dump)) {}

  std::vector<NginxDirective> parse(const Source& source) {
    std::vector<NginxDirective> out;
    NginxLexer lexer(source.text);
    stack_.push_back(source.name);
    parse_block(lexer, source, out, std::nullopt);
    stack_.pop_back();
    return out;
  }

 private:
  static SourceLocation at(const Source& source, std::size_t line) {
    SourceLocation where{source.name, line, source.container, 0};
    if (!source.container.empty()) {
      where.container_line = source.container_first_line + line - 1;
    }
    return where;
  }

  static NginxToken next(NginxLexer& lexer, const Source& source) {
    try {
      return lexer.next();
    } catch (const std::runtime_error& e) {
      // The lexer says "LINE: message"; put the file in front.
      const std::string what = e.what();
      const std::size_t colon = what.find(": ");
      const std::size_t line = std::stoul(what.substr(0, colon));
      throw NginxConfigError(at(source, line), what.substr(colon + 2));
    }
  }

  /// Reads directives until the end of the text (top level) or the `}` closing a block
  /// opened at `opened_at`.
  void parse_block(NginxLexer& lexer, const Source& source, std::vector<NginxDirective>& out,
                   std::optional<std::size_t> opened_at) {
    for (;;) {
      NginxToken token = next(lexer, source);
      switch (token.kind) {
        case NginxToken::Kind::end:
          if (opened_at) {
            throw NginxConfigError(at(source, *opened_at),
                                   "unbalanced braces: the \"{\" opened here is never closed "
                                   "(end of file reached at line " +
                                       std::to_string(lexer.line()) + ")");
          }
          return;
        case NginxToken::Kind::block_end:
          if (!opened_at) {
            throw NginxConfigError(at(source, token.line),
                                   "unbalanced braces: unexpected \"}\" with no open block");
          }
          return;
        case NginxToken::Kind::semicolon:
        case NginxToken::Kind::block_start:
          throw NginxConfigError(at(source, token.line), "unexpected \"" + token.text +
                                                             "\" where a directive name is "
                                                             "expected");
        case NginxToken::Kind::word:
          read_directive(lexer, source, std::move(token), out);
          break;
      }
    }
  }

  void read_directive(NginxLexer& lexer, const Source& source, NginxToken name,
                      std::vector<NginxDirective>& out) {
    NginxDirective d;
    d.name = std::move(name.text);
    d.where = at(source, name.line);
    for (;;) {
      NginxToken token = next(lexer, source);
      if (token.kind == NginxToken::Kind::word) {
        d.args.push_back(std::move(token.text));
        continue;
      }
      if (token.kind == NginxToken::Kind::semicolon) {
        break;
      }
      if (token.kind == NginxToken::Kind::block_start) {
        d.has_block = true;
        parse_block(lexer, source, d.block, token.line);
        break;
      }
      throw NginxConfigError(
          at(source, token.kind == NginxToken::Kind::end ? lexer.line() : token.line),
          "directive \"" + d.name + "\" (line " + std::to_string(name.line) +
              ") is not terminated by \";\" or \"{\"" +
              (token.kind == NginxToken::Kind::end ? " before the end of the file" : ""));
    }
    if (d.name == "include" && !d.has_block) {
      expand_include(d, out);
      return;
    }
    out.push_back(std::move(d));
  }

  void expand_include(const NginxDirective& include, std::vector<NginxDirective>& out) {
    if (include.args.size() != 1) {
      throw NginxConfigError(include.where, "\"include\" takes exactly one file or glob");
    }
    if (stack_.size() > kMaxIncludeDepth) {
      throw NginxConfigError(include.where, "includes nested deeper than " +
                                                std::to_string(kMaxIncludeDepth) + " files");
    }
    for (const std::string& file : resolve(include.args[0], include.where)) {
      if (std::find(stack_.begin(), stack_.end(), file) != stack_.end()) {
        throw NginxConfigError(include.where, "include cycle: " + file + " includes itself");
      }
      Source included = load(file, include.where);
      std::vector<NginxDirective> inner = parse(included);
      std::move(inner.begin(), inner.end(), std::back_inserter(out));
    }
  }

  Source load(const std::string& file, const SourceLocation& asked_from) {
    if (dump_.empty()) {
      return {file, read_whole_file(file, asked_from), {}, 0};
    }
    for (const Source& section : dump_) {
      if (section.name == file) {
        return section;
      }
    }
    throw NginxConfigError(asked_from, "included file " + file + " is not in the dump");
  }

  /// Files an include pattern names, sorted as glob(3) sorts them. A relative pattern is
  /// tried next to the including file first, then next to the root file.
  std::vector<std::string> resolve(const std::string& pattern, const SourceLocation& where) {
    std::vector<fs::path> candidates;
    if (fs::path(pattern).is_absolute()) {
      candidates.emplace_back(pattern);
    } else {
      candidates.push_back(fs::path(where.file).parent_path() / pattern);
      const fs::path from_root = root_dir_ / pattern;
      if (from_root != candidates.front()) {
        candidates.push_back(from_root);
      }
    }
    for (const fs::path& candidate : candidates) {
      std::vector<std::string> files = matches(candidate.lexically_normal().string());
      if (!files.empty()) {
        return files;
      }
    }
    if (has_glob(pattern)) {
      return {};  // nginx accepts a glob that matches nothing
    }
    std::string looked;
    for (const fs::path& candidate : candidates) {
      looked += (looked.empty() ? "" : ", ") + candidate.lexically_normal().string();
    }
    throw NginxConfigError(where,
                           "include file not found: " + pattern + " (looked for " + looked + ")");
  }

  std::vector<std::string> matches(const std::string& pattern) const {
    std::vector<std::string> files;
    if (!dump_.empty()) {
      for (const Source& section : dump_) {
        if (fnmatch(pattern.c_str(), section.name.c_str(), FNM_PATHNAME) == 0) {
          files.push_back(section.name);
        }
      }
      std::sort(files.begin(), files.end());
      return files;
    }
    if (!has_glob(pattern)) {
      std::error_code ec;
      if (fs::exists(pattern, ec)) {
        files.push_back(pattern);
      }
      return files;
    }
    glob_t found{};
    if (glob(pattern.c_str(), 0, nullptr, &found) == 0) {
      for (std::size_t i = 0; i < found.gl_pathc; ++i) {
        files.emplace_back(found.gl_pathv[i]);
      }
    }
    globfree(&found);
    return files;
  }

  fs::path root_dir_;
  std::vector<Source> dump_;
  std::vector<std::string> stack_;  ///< files being parsed, outermost first
};

}  // namespace

std::vector<NginxDirective> parse_nginx_config(std::string_view text, const std::string& name) {
  if (std::optional<std::vector<Source>> dump = split_dump(text, name)) {
    Source root = dump->front();
    TreeBuilder builder(root.name, std::move(*dump));
    return builder.parse(root);
  }
  TreeBuilder builder(name, {});
  return builder.parse(Source{name, std::string(text), {}, 0});
}

std::vector<NginxDirective> read_nginx_config(const std::filesystem::path& path) {
  const std::string text = read_whole_file(path, SourceLocation{path.string(), 0, {}, 0});
  return parse_nginx_config(text, path.string());
}

}  // namespace ipm::scanner
