// The README's config reference must list every key of the schema with its documentation,
// and nothing the schema does not know.
#include "config/schema.hpp"

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>

namespace {

std::string readme() {
  std::ifstream in(std::string(IPM_SOURCE_DIR) + "/README.md");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ReadmeReferenceTest, lists_every_key_with_its_doc) {
  const std::string text = readme();
  ASSERT_FALSE(text.empty());
  for (const auto& k : ipm::config::schema()) {
    const std::string row = "| `" + std::string(k.name) + "` |";
    const auto at = text.find(row);
    ASSERT_NE(at, std::string::npos) << "README lacks a row for " << k.name;
    const std::string line = text.substr(at, text.find('\n', at) - at);
    EXPECT_NE(line.find(k.doc), std::string::npos)
        << "README row of " << k.name << " does not carry its doc: " << k.doc;
  }
}

TEST(ReadmeReferenceTest, names_no_key_the_schema_lacks) {
  // Only the reference section: other tables (metrics, routes) have rows of their own.
  const std::string all = readme();
  const auto start = all.find("### Config reference");
  ASSERT_NE(start, std::string::npos);
  const auto end = all.find("\n#", start + 1);
  const std::string text = all.substr(start, end == std::string::npos ? end : end - start);
  const std::regex row(R"(\n\| `([a-z_]+)` \|)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), row); it != std::sregex_iterator();
       ++it) {
    EXPECT_NE(ipm::config::find_key((*it)[1].str()), nullptr)
        << "README documents unknown key " << (*it)[1].str();
  }
}

TEST(ReadmeReferenceTest, reloading_section_names_every_live_key) {
  const std::string all = readme();
  const auto start = all.find("### Reloading");
  ASSERT_NE(start, std::string::npos);
  const std::string text = all.substr(start, all.find("\n#", start + 1) - start);
  for (const auto& k : ipm::config::schema()) {
    const bool named = text.find("`" + std::string(k.name) + "`") != std::string::npos;
    EXPECT_EQ(named, k.live) << k.name
                             << (k.live ? " applies on SIGHUP but the README omits it"
                                        : " is named as live but is not");
  }
}

}  // namespace
