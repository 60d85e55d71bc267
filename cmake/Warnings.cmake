# ipm_warnings: linked PRIVATE into every first-party target.
# Not -Wnull-dereference: GCC 12 at -O2 reports false positives inside Asio's scheduler.
add_library(ipm_warnings INTERFACE)
target_compile_options(ipm_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2
  $<$<BOOL:${IPM_WARNINGS_AS_ERRORS}>:-Werror>)
