// libFuzzer target (clang only): every codec of proxy/protocol, whole and byte by byte.
#include <cstddef>
#include <cstdint>

#include "tests/fuzz/protocol_fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ipm::protocol::fuzz::check_all({reinterpret_cast<const std::byte*>(data), size});
  return 0;
}
