// The journal of operator actions: what a restart gets back, a torn or edited line set
// aside (never fatal), compaction to what is still in force.
#include "app/action_journal.hpp"

#include <fstream>

#include <sys/stat.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "strategy/operator_command.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using ipm::app::ActionJournal;
using ipm::pool::OperatorAction;
using ipm::test::read_file;
using testing::HasSubstr;
namespace fs = std::filesystem;

ipm::pool::TimePoint at(int seconds) {
  return ipm::pool::TimePoint(std::chrono::seconds(1'800'000'000 + seconds));
}

OperatorAction ban(std::string ip, int t, int for_seconds = -1) {
  OperatorAction a;
  a.kind = OperatorAction::Kind::ban;
  a.ip = std::move(ip);
  a.time = at(t);
  a.until = for_seconds < 0 ? ipm::pool::TimePoint::max() : at(t + for_seconds);
  a.reason = "abuse \"report\" #7";
  a.client = "127.0.0.1";
  return a;
}

OperatorAction simple(OperatorAction::Kind kind, std::string ip, int t, std::uint32_t w = 1) {
  OperatorAction a;
  a.kind = kind;
  a.ip = std::move(ip);
  a.time = at(t);
  a.weight = w;
  a.client = "::1";
  return a;
}

TEST(ActionJournalTest, appended_actions_come_back_in_order_after_a_restart) {
  ipm::test::TempDir dir;
  const std::vector<OperatorAction> actions = {
      ban("10.0.0.1", 0, 600), ban("10.0.0.2", 1),
      simple(OperatorAction::Kind::weight, "10.0.0.3", 2, 0),
      simple(OperatorAction::Kind::unban, "10.0.0.2", 3),
      simple(OperatorAction::Kind::reset, "10.0.0.1", 4)};
  {
    ActionJournal j(dir / "state");
    EXPECT_TRUE(j.load().actions.empty());
    for (const auto& a : actions)
      j.append(a);
  }
  ActionJournal again(dir / "state");
  const auto loaded = again.load();
  EXPECT_TRUE(loaded.problems.empty());
  EXPECT_EQ(loaded.actions, actions);
}

TEST(ActionJournalTest, a_torn_last_line_is_reported_and_set_aside_keeping_the_rest) {
  ipm::test::TempDir dir;
  ActionJournal j(dir.path());
  j.append(ban("10.0.0.1", 0));
  {
    std::ofstream out(j.path(), std::ios::app);
    out << "{\"action\":\"ban\",\"ip\":\"10.0";  // a crash in the middle of an append
  }
  const auto loaded = j.load();
  ASSERT_EQ(loaded.actions.size(), 1U);
  EXPECT_THAT(loaded.problems.at(0), HasSubstr("actions.journal:2: the last line is cut short"));
  EXPECT_THAT(loaded.problems.at(1), HasSubstr("set aside as"));
  EXPECT_FALSE(fs::exists(j.path()));
  bool aside = false;
  for (const auto& e : fs::directory_iterator(dir.path()))
    aside |= e.path().filename().string().starts_with("actions.journal.corrupt-");
  EXPECT_TRUE(aside);
}

TEST(ActionJournalTest, lines_that_do_not_parse_are_named_with_their_number) {
  ipm::test::TempDir dir;
  ActionJournal j(dir.path());
  ipm::test::write_file(j.path(),
                        "{\"action\":\"explode\",\"ip\":\"x\",\"time_ms\":1,"
                        "\"client\":\"\"}\nnot json\n[1]\n{\"action\":\"weight\","
                        "\"ip\":\"a\",\"time_ms\":1,\"client\":\"\",\"weight\":-4}\n");
  const auto loaded = j.load();
  EXPECT_TRUE(loaded.actions.empty());
  ASSERT_EQ(loaded.problems.size(), 5U);
  EXPECT_THAT(loaded.problems[0], HasSubstr(":1: unknown action \"explode\""));
  EXPECT_THAT(loaded.problems[1], HasSubstr(":2: not JSON"));
  EXPECT_THAT(loaded.problems[2], HasSubstr(":3: not a JSON object"));
  EXPECT_THAT(loaded.problems[3], HasSubstr(":4: weight out of range"));
}

TEST(ActionJournalTest, rewrite_replaces_the_journal_whole) {
  ipm::test::TempDir dir;
  ActionJournal j(dir.path());
  j.append(ban("10.0.0.1", 0));
  j.append(ban("10.0.0.2", 0));
  j.rewrite({ban("10.0.0.9", 5)});
  EXPECT_EQ(j.load().actions, std::vector<OperatorAction>{ban("10.0.0.9", 5)});
  EXPECT_FALSE(fs::exists(dir / "actions.journal.tmp"));
}

// A start with every action still in force leaves the journal file as it is (same inode: no
// rename of a rewritten copy); one with an action gone writes the journal anew.
TEST(ActionJournalTest, compact_rewrites_only_a_journal_that_changed) {
  ipm::test::TempDir dir;
  const auto inode = [&] {
    struct stat st {};
    return ::stat((dir / "actions.journal").c_str(), &st) == 0 ? st.st_ino : 0;
  };
  ActionJournal j(dir.path());
  j.compact(j.load(), {});
  EXPECT_TRUE(fs::exists(dir / "actions.journal")) << "opened for appending, so created";
  j.append(ban("10.0.0.1", 0));
  j.append(ban("10.0.0.2", 0));
  const auto before = inode();
  const ActionJournal::Loaded all = j.load();
  j.compact(all, all.actions);
  EXPECT_EQ(inode(), before);
  EXPECT_EQ(j.load().actions, all.actions);
  j.compact(all, {ban("10.0.0.2", 0)});
  EXPECT_NE(inode(), before);
  EXPECT_EQ(j.load().actions, std::vector<OperatorAction>{ban("10.0.0.2", 0)});
}

TEST(ActionJournalTest, an_unwritable_state_dir_is_an_error_naming_it) {
  ipm::test::TempDir dir;
  ipm::test::write_file(dir / "file", "");
  ActionJournal j(dir / "file" / "state");
  try {
    j.load();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("state_dir " + (dir / "file" / "state").string()));
  }
}

TEST(InForceTest, keeps_live_bans_and_last_weights_only) {
  const std::vector<OperatorAction> actions = {
      ban("a", 0, 100),                                  // expired at 200
      ban("b", 0),                                       // until unbanned ...
      simple(OperatorAction::Kind::unban, "b", 10),      // ... unbanned
      ban("c", 20),                                      // in force
      simple(OperatorAction::Kind::weight, "d", 30, 5),  // replaced ...
      simple(OperatorAction::Kind::weight, "d", 40, 0),  // ... by this one
      ban("e", 50, 1000),
      simple(OperatorAction::Kind::reset, "e", 60)};
  const auto kept = ipm::strategy::in_force(actions, at(200));
  ASSERT_EQ(kept.size(), 2U);
  EXPECT_EQ(kept[0], actions[3]);
  EXPECT_EQ(kept[1], actions[5]);
}

TEST(InForceTest, a_disable_is_kept_until_an_enable_of_the_same_egress) {
  const std::vector<OperatorAction> actions = {
      simple(OperatorAction::Kind::disable, "a", 0),  // enabled later
      simple(OperatorAction::Kind::disable, "b", 1),  // in force
      simple(OperatorAction::Kind::enable, "a", 2),
      simple(OperatorAction::Kind::unban, "b", 3),  // an unban does not enable
  };
  const auto kept = ipm::strategy::in_force(actions, at(10));
  ASSERT_EQ(kept.size(), 1U);
  EXPECT_EQ(kept[0], actions[1]);

  ipm::test::TempDir dir;
  {
    ActionJournal j(dir / "state");
    EXPECT_TRUE(j.load().actions.empty());  // creates state_dir
    for (const auto& a : actions)
      j.append(a);
  }
  EXPECT_EQ(ActionJournal(dir / "state").load().actions, actions) << "they read back as written";
}

// Health per target: an operator's ban of one site survives a restart as such, and is
// lifted only by an unban or reset of that same site.
TEST(ActionJournalTest, a_per_site_action_keeps_its_target) {
  ipm::test::TempDir dir;
  OperatorAction site_ban = ban("10.0.0.1", 0);
  site_ban.target = "a.example";
  OperatorAction site_unban = simple(OperatorAction::Kind::unban, "10.0.0.1", 1);
  site_unban.target = "a.example";
  const std::vector<OperatorAction> actions = {site_ban, site_unban,
                                               simple(OperatorAction::Kind::ban, "10.0.0.1", 2)};
  {
    ActionJournal j(dir / "state");
    EXPECT_TRUE(j.load().actions.empty());
    for (const auto& a : actions)
      j.append(a);
  }
  const auto loaded = ActionJournal(dir / "state").load();
  EXPECT_TRUE(loaded.problems.empty());
  EXPECT_EQ(loaded.actions, actions);
  EXPECT_THAT(read_file(dir / "state" / "actions.journal"), HasSubstr("\"target\":\"a.example\""));
}

TEST(InForceTest, a_site_ban_is_lifted_only_for_its_site) {
  OperatorAction a_ban = ban("x", 0);
  a_ban.target = "a.example";
  OperatorAction b_ban = ban("x", 1);
  b_ban.target = "b.example";
  OperatorAction b_unban = simple(OperatorAction::Kind::unban, "x", 2);
  b_unban.target = "b.example";
  const std::vector<OperatorAction> actions = {
      a_ban, b_ban, b_unban,
      simple(OperatorAction::Kind::unban, "x", 3)};  // the whole IP: a.example's ban stays
  const auto kept = ipm::strategy::in_force(actions, at(200));
  ASSERT_EQ(kept.size(), 1U);
  EXPECT_EQ(kept[0], a_ban);
}

}  // namespace
