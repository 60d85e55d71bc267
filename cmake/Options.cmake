# ipm_options: sanitizers and other per-build switches, linked PRIVATE into every first-party target.
option(IPM_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)
option(IPM_ENABLE_ASAN "Build with AddressSanitizer" OFF)
option(IPM_ENABLE_UBSAN "Build with UndefinedBehaviorSanitizer" OFF)
option(IPM_ENABLE_TSAN "Build with ThreadSanitizer" OFF)
option(IPM_BUILD_BENCHMARKS "Build the benchmarks in tests/bench" ON)
# The libFuzzer tree (preset fuzz, clang only): first-party code gets libFuzzer's coverage
# instrumentation and only tests/fuzz is configured (the fuzz targets and what they link).
option(IPM_ENABLE_FUZZING "Build the libFuzzer targets of tests/fuzz (clang)" OFF)
set(IPM_FUZZ_SECONDS 20 CACHE STRING "How long each fuzz target runs as a test")

add_library(ipm_options INTERFACE)
set(_ipm_sanitizers "")
if(IPM_ENABLE_ASAN)
  list(APPEND _ipm_sanitizers address)
endif()
if(IPM_ENABLE_UBSAN)
  list(APPEND _ipm_sanitizers undefined)
endif()
if(IPM_ENABLE_TSAN)
  list(APPEND _ipm_sanitizers thread)
endif()
if(IPM_ENABLE_FUZZING)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "IPM_ENABLE_FUZZING needs clang (cmake --preset fuzz)")
  endif()
  list(APPEND _ipm_sanitizers fuzzer-no-link)
endif()
if(_ipm_sanitizers)
  list(JOIN _ipm_sanitizers "," _ipm_sanitizer_list)
  # UBSan's vptr check probes memory with pipe(2): while the process is out of descriptors,
  # which the proxy must survive (EMFILE tests), every check reports a false "invalid vptr".
  # Its suppression file cannot be opened then either, so that one check is left out.
  set(_ipm_no_vptr $<$<BOOL:${IPM_ENABLE_UBSAN}>:-fno-sanitize=vptr>)
  # Clang's UBSan has one check more than GCC's, `function` (calls through a function pointer
  # of the wrong type); clang 14 cannot emit it for C++20 coroutine frames with debug info
  # ("Cannot represent a difference across sections"), so it is left out like GCC leaves it.
  if(IPM_ENABLE_UBSAN AND CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    list(APPEND _ipm_no_vptr -fno-sanitize=function)
  endif()
  target_compile_options(ipm_options INTERFACE -fsanitize=${_ipm_sanitizer_list} ${_ipm_no_vptr}
                                               -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(ipm_options INTERFACE -fsanitize=${_ipm_sanitizer_list} ${_ipm_no_vptr})
endif()
