// Prints ipmanager(8) to stdout; the build turns it into the packaged man page.
// --readme prints the README's config reference table from the same schema instead.
#include <iostream>
#include <string_view>

#include "app/man_page.hpp"
#include "app/version.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--readme")
    std::cout << ipm::app::readme_table();
  else
    std::cout << ipm::app::man_page(ipm::app::kVersion);
  return std::cout ? 0 : 1;
}
