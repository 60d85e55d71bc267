// The README's config reference must list every key of the schema with its documentation,
// and nothing the schema does not know.
#include "config/schema.hpp"

#include <boost/json/serialize.hpp>

#include <charconv>
#include <fstream>
#include <map>
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
    EXPECT_EQ(line.find("| `" + std::string(k.name) + "` | " + std::string(k.type) + " |"), 0U)
        << "README row of " << k.name << " does not say its type, " << k.type << ": " << line;
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
  const std::regex row(R"(\n\| `([a-z0-9_]+)` \|)");
  std::size_t rows = 0;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), row); it != std::sregex_iterator();
       ++it) {
    EXPECT_NE(ipm::config::find_key((*it)[1].str()), nullptr)
        << "README documents unknown key " << (*it)[1].str();
    ++rows;
  }
  EXPECT_EQ(rows, ipm::config::schema().size()) << "one row per key";
}

// The defaults column says what a config without the key gets: the value /config shows for
// a default Config, in the same JSON spelling.
TEST(ReadmeReferenceTest, defaults_column_is_what_an_empty_config_gets) {
  const std::string text = readme();
  const ipm::config::Config defaults;
  // Keys whose default is a sentence rather than a value.
  const std::map<std::string, std::string> described = {
      {"upstream_conf_path", "`(required)`"},
      {"log_format", "`the Go tool's format (below)`"},
      {"config_path", ""}};
  std::size_t checked = 0;
  for (const auto& k : ipm::config::schema()) {
    const std::string name(k.name);
    const auto at = text.find("| `" + name + "` | ");
    ASSERT_NE(at, std::string::npos) << name;
    // The row's third cell (key, type, default), trimmed.
    const std::string line = text.substr(at, text.find('\n', at) - at);
    const auto from = line.find('|', line.find('|', 1) + 1) + 1;
    std::string cell = line.substr(from, line.find('|', from) - from);
    cell.erase(0, cell.find_first_not_of(' '));
    cell.erase(cell.find_last_not_of(' ') + 1);
    if (described.contains(name)) {
      EXPECT_EQ(cell, described.at(name)) << name;
      continue;
    }
    const boost::json::value shown = k.show(defaults);
    std::string value = boost::json::serialize(shown);
    if (shown.is_double()) {  // 0.1, not Boost.JSON's 1E-1
      char buf[32];
      value.assign(buf, std::to_chars(buf, buf + sizeof buf, shown.as_double()).ptr);
    }
    EXPECT_EQ(cell, "`" + value + "`") << name;
    ++checked;
  }
  EXPECT_EQ(checked, ipm::config::schema().size() - described.size());
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
