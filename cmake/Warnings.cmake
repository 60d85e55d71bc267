# ipm_warnings: linked PRIVATE into every first-party target.
add_library(ipm_warnings INTERFACE)
target_compile_options(ipm_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2 -Wnull-dereference
  $<$<BOOL:${IPM_WARNINGS_AS_ERRORS}>:-Werror>)
