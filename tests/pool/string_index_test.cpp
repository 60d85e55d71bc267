#include "pool/string_index.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace {

using ipm::pool::StringIndex;

struct Table {
  std::vector<std::string> keys;
  StringIndex index;

  StringIndex::Id find(std::string_view s) const {
    return index.find(s, [this](StringIndex::Id id) -> const std::string& { return keys[id]; });
  }
  void add(std::string s, std::uint32_t hash) {
    index.insert(hash, static_cast<StringIndex::Id>(keys.size()));
    keys.push_back(std::move(s));
  }
  void add(std::string s) { add(s, StringIndex::hash(s)); }
};

TEST(StringIndexTest, empty_index_finds_nothing) {
  Table t;
  EXPECT_EQ(t.find(""), StringIndex::kNone);
  EXPECT_EQ(t.find("10.0.0.1"), StringIndex::kNone);
}

TEST(StringIndexTest, finds_every_key_through_growth_and_nothing_else) {
  Table t;
  for (int i = 0; i < 5000; ++i)
    t.add("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256));
  EXPECT_EQ(t.index.size(), 5000U);
  for (int i = 0; i < 5000; ++i) {
    ASSERT_EQ(t.find("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256)),
              static_cast<StringIndex::Id>(i));
  }
  EXPECT_EQ(t.find("10.0.0.1 "), StringIndex::kNone);
  EXPECT_EQ(t.find("10.0.200.0"), StringIndex::kNone);
}

TEST(StringIndexTest, equal_hashes_are_told_apart_by_the_strings) {
  Table t;
  for (const char* s : {"a", "b", "c", "d", "e"})
    t.add(s, 7);  // every key collides
  EXPECT_EQ(
      t.index.find("c", 7, [&t](StringIndex::Id id) -> const std::string& { return t.keys[id]; }),
      2U);
  EXPECT_EQ(
      t.index.find("f", 7, [&t](StringIndex::Id id) -> const std::string& { return t.keys[id]; }),
      StringIndex::kNone);
}

TEST(StringIndexTest, clear_forgets_everything) {
  Table t;
  t.add("x");
  t.index.clear();
  EXPECT_EQ(t.find("x"), StringIndex::kNone);
  EXPECT_EQ(t.index.size(), 0U);
}

}  // namespace
