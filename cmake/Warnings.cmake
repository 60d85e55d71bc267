# ipm_warnings: linked PRIVATE into every first-party target.
# Not -Wnull-dereference: GCC 12 at -O2 reports false positives inside Asio's scheduler.
add_library(ipm_warnings INTERFACE)
target_compile_options(ipm_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2
  $<$<BOOL:${IPM_WARNINGS_AS_ERRORS}>:-Werror>)

# GCC 12 at -O2 takes the awaitable frame's sized operator delete for a mismatch with its
# operator new in coroutines it inlines (a false positive). For the sources where it does.
function(ipm_no_coroutine_delete_warning)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    set_source_files_properties(${ARGN} PROPERTIES COMPILE_OPTIONS "-Wno-mismatched-new-delete")
  endif()
endfunction()
