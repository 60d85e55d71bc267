#include <iostream>
#include <string_view>
#include <vector>

#include "app/cli.hpp"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  const auto parsed = ipm::app::parse_command_line(args);
  if (!parsed.command_line) {
    std::cerr << "ipmanager: " << parsed.error << "\n";
    return 2;
  }
  std::cout << ipm::app::usage();
  return 0;
}
