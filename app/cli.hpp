#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ipm::app {

/// What the command line asked for. Parsing is a pure function so every flag is tested
/// without running the program.
struct CommandLine {
  std::optional<std::string> config_path;   ///< --config PATH
  bool parse_mode = false;                  ///< --parse: mode parse, as the Go tool
  std::optional<std::uint16_t> probe_port;  ///< --port N: the probe port, as the Go tool
  bool check = false;                       ///< --check: validate and exit
  bool demo = false;                        ///< --demo: run on the embedded demo config
  bool version = false;
  bool help = false;
};

/// Result of parsing: the command line, or a one-line error for the operator.
struct ParseResult {
  std::optional<CommandLine> command_line;
  std::string error;
};

/// Parses argv (without the program name). Accepts "--flag value" and "--flag=value", and
/// the Go tool's single-dash spellings ("-config", "-port", "-parse").
ParseResult parse_command_line(std::span<const std::string_view> args);

/// The --help text.
std::string usage();

}  // namespace ipm::app
