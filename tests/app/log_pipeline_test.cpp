#include "app/log_pipeline.hpp"

#include <zlib.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>

#include "config/load.hpp"
#include "pool/selector.hpp"
#include "tests/scanner/log_samples.hpp"
#include "tests/support/temp_dir.hpp"

namespace ipm::app {
namespace {

namespace fs = std::filesystem;

double sample(prometheus::Registry& registry, const std::string& name) {
  double sum = 0;
  for (const auto& family : registry.Collect()) {
    if (family.name != name)
      continue;
    for (const auto& m : family.metric)
      sum += family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
  }
  return sum;
}

// `n` lines of the default format over the two IPs of the pool, one second apart.
std::string lines(int n, int first = 0) {
  std::string out;
  for (int i = first; i < first + n; ++i) {
    test::LineSpec s;
    s.time = pool::TimePoint(std::chrono::seconds(1'800'000'000 + i));
    s.port = 19001 + i % 2;
    s.egress = "127.0.1." + std::to_string(1 + i % 2);
    out += test::default_format_line(s) + "\n";
  }
  return out;
}

void write_gzip(const fs::path& path, const std::string& content) {
  gzFile out = ::gzopen(path.c_str(), "wb");
  ASSERT_NE(out, nullptr);
  ::gzwrite(out, content.data(), static_cast<unsigned>(content.size()));
  ::gzclose(out);
}

class LogPipelineTest : public ::testing::Test {
 protected:
  void run(std::string_view mode) {
    config_ = config::load_text("mode: " + std::string(mode) +
                                    "\nupstream_conf_path: /unused\naccess_log_path: " +
                                    (dir_ / "access.log").string() + "\n",
                                "<test>", config::no_env());
    engine_ =
        std::make_unique<strategy::SharedEngine>(config_, selector_, egresses_, pool::TimePoint{});
    pipeline_ =
        std::make_unique<LogPipeline>(io_.get_executor(), config_, egresses_, *engine_, registry_);
    pipeline_->start();
    // Runs the loop until the replay is over (bounded): no sleep, no fixed wait.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (!pipeline_->replay_done() && std::chrono::steady_clock::now() < deadline)
      io_.run_one_for(std::chrono::milliseconds(100));
  }

  std::uint64_t events_applied() const {
    return engine_->read([](const strategy::Engine& e) { return e.counters().events; });
  }

  test::TempDir dir_{"ipm-pipeline"};
  std::vector<pool::Egress> egresses_{{"127.0.1.1", 19001, {}, 1}, {"127.0.1.2", 19002, {}, 1}};
  config::Config config_;
  pool::Selector selector_{config::Selection::round_robin};
  boost::asio::io_context io_;
  prometheus::Registry registry_;
  std::unique_ptr<strategy::SharedEngine> engine_;
  std::unique_ptr<LogPipeline> pipeline_;
};

TEST_F(LogPipelineTest, parse_mode_counts_every_line_exactly_when_the_replay_is_done) {
  // Rotated members and a live log larger than one read of the tailer, one bad line each.
  write_gzip(dir_ / "access.log.2.gz", lines(1000, 0) + "garbage\n");
  test::write_file(dir_ / "access.log.1", lines(1000, 1000) + "garbage\n");
  test::write_file(dir_ / "access.log", lines(40000, 2000) + "garbage\n");
  run("parse");
  ASSERT_TRUE(pipeline_->replay_done());
  EXPECT_EQ(sample(registry_, "ipmanager_scanner_lines_total"), 42003);
  EXPECT_EQ(events_applied(), 42000U);
  EXPECT_GT(sample(registry_, "ipmanager_replay_done_timestamp_seconds"), 1.7e9);
}

TEST_F(LogPipelineTest, parse_mode_with_nothing_to_read_is_done_at_start) {
  run("parse");
  EXPECT_TRUE(pipeline_->replay_done());
  EXPECT_EQ(sample(registry_, "ipmanager_scanner_lines_total"), 0);
}

TEST_F(LogPipelineTest, serve_mode_has_nothing_to_replay) {
  test::write_file(dir_ / "access.log", lines(10));
  run("serve");
  EXPECT_TRUE(pipeline_->replay_done());
  EXPECT_GT(sample(registry_, "ipmanager_replay_done_timestamp_seconds"), 1.7e9);
  EXPECT_EQ(events_applied(), 0U);
}

}  // namespace
}  // namespace ipm::app
