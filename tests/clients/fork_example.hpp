#pragma once

#include <fstream>
#include <sstream>
#include <string>

// The enhanced go-dispatch-proxy's own example, source_ip_rules.example.json, byte for byte
// (trailing spaces included) in tests/clients/source_ip_rules.example.json: ipmanager must load
// it unchanged, here and with the binary (--check).
inline std::string fork_example() {
  std::ifstream in(std::string(IPM_SOURCE_DIR) + "/tests/clients/source_ip_rules.example.json");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}
