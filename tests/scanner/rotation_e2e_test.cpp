// End to end: a real nginx pool writes its access log under a steady request stream while a
// real `logrotate -f` rotates it, once per mode; the lines the Tailer delivers per egress IP
// must equal the requests nginx answered per IP and the lines found in every rotated file
// (plain and .gz): zero lost, zero read twice. copytruncate and compress without
// delaycompress can lose lines on nginx's side (logrotate's caveat): there the tailer reads
// every line that reached a file and repeats none.
#include "scanner/tailer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <zlib.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/child_process.hpp"
#include "tests/support/nginx_pool.hpp"

namespace ipm::scanner {
namespace {

namespace fs = std::filesystem;
using Counts = std::map<std::string, int>;

// The egress IP of a default-format line (`egress=$server_name`), "" when absent.
std::string egress_of(std::string_view line) {
  const auto at = line.find(" egress=");
  if (at == std::string_view::npos)
    return {};
  const auto from = at + 8;
  return std::string(line.substr(from, line.find(' ', from) - from));
}

void count_lines(std::string_view content, Counts& counts) {
  std::size_t start = 0;
  for (auto nl = content.find('\n'); nl != std::string_view::npos;
       start = nl + 1, nl = content.find('\n', start)) {
    ++counts[egress_of(content.substr(start, nl - start))];
  }
}

std::string gunzip(const fs::path& p) {
  gzFile f = ::gzopen(p.c_str(), "rb");
  if (f == nullptr)
    return {};
  std::string out;
  char buf[65536];
  for (int n; (n = ::gzread(f, buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::gzclose(f);
  return out;
}

// What nginx wrote, per egress IP, in the live log and every rotated copy (.gz included).
Counts count_files(const fs::path& dir, const std::string& base) {
  Counts counts;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (name.rfind(base, 0) != 0)
      continue;
    count_lines(e.path().extension() == ".gz" ? gunzip(e.path()) : test::read_file(e.path()),
                counts);
  }
  return counts;
}

int total(const Counts& c) {
  int n = 0;
  for (const auto& [ip, k] : c)
    n += k;
  return n;
}

// A steady, bounded request stream through every egress port, on its own thread.
class RequestStream {
 public:
  explicit RequestStream(const test::NginxPool& pool) : pool_(pool) {
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
  }
  ~RequestStream() { stop(); }
  void stop() {
    thread_.request_stop();
    if (thread_.joinable())
      thread_.join();
  }
  int sent() const { return sent_; }
  // Blocks (bounded) until `n` more requests were answered.
  bool wait_for_more(int n) {
    const int target = sent_ + n;
    return test::wait_until([&] { return sent_ >= target; }, std::chrono::seconds(20));
  }
  Counts answered() {
    std::lock_guard lock(mutex_);
    return answered_;
  }

 private:
  void run(const std::stop_token& stop) {
    constexpr int kMaxRequests = 20000;  // bounded whatever happens
    for (std::size_t i = 0; !stop.stop_requested() && sent_ < kMaxRequests; ++i) {
      const std::size_t k = i % pool_.ports().size();
      const auto r = pool_.get(pool_.ports()[k], "/req/" + std::to_string(i));
      if (r.status == 200) {
        std::lock_guard lock(mutex_);
        ++answered_[pool_.ips()[k]];
      }
      ++sent_;
      std::this_thread::sleep_for(std::chrono::microseconds(500));  // steady, not a flood
    }
  }

  const test::NginxPool& pool_;
  std::atomic<int> sent_{0};
  std::mutex mutex_;
  Counts answered_;
  std::jthread thread_;
};

// The tailer on its own io_context thread, counting lines per egress IP.
class TailedLog {
 public:
  explicit TailedLog(const std::string& path) : guard_(ioc_.get_executor()) {
    TailerOptions o;
    o.paths = {path};
    o.start_at_end = false;
    o.reconcile_interval = std::chrono::milliseconds(100);
    o.log = [](std::string_view) {};
    tailer_ = std::make_unique<Tailer>(
        ioc_.get_executor(), o,
        [this](std::span<const std::string_view> lines, const FileId&) {
          std::lock_guard lock(mutex_);
          for (const std::string_view line : lines) {
            ++counts_[egress_of(line)];
            ++total_;
            if (line.find("\"GET /last ") != std::string_view::npos)
              saw_last_ = true;
          }
        },
        registry_);
    tailer_->start();
    thread_ = std::jthread([this] { ioc_.run(); });
  }
  ~TailedLog() {
    tailer_->stop();
    guard_.reset();
    thread_.join();
    tailer_.reset();
  }
  Counts counts() {
    std::lock_guard lock(mutex_);
    return counts_;
  }
  int total() const { return total_; }
  /// True once the line of the request to /last was read.
  bool saw_last() const { return saw_last_; }
  prometheus::Registry& registry() { return registry_; }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  prometheus::Registry registry_;
  std::unique_ptr<Tailer> tailer_;
  std::mutex mutex_;
  Counts counts_;
  std::atomic<int> total_{0};
  std::atomic<bool> saw_last_{false};
  std::jthread thread_;
};

double rotations_seen(prometheus::Registry& registry, const std::string& kind) {
  for (const auto& family : registry.Collect()) {
    if (family.name != "ipmanager_tail_rotations_total")
      continue;
    for (const auto& m : family.metric) {
      if (!m.label.empty() && m.label[0].value == kind)
        return m.counter.value;
    }
  }
  return -1;
}

enum class Mode { create, copytruncate, delaycompress, compress };

std::string logrotate_config(Mode mode, const std::string& log, pid_t master) {
  std::ostringstream c;
  c << log << " {\n  rotate 100\n  missingok\n  ifempty\n";
  switch (mode) {
    case Mode::create:
      c << "  create\n";
      break;
    case Mode::copytruncate:
      c << "  copytruncate\n";
      break;
    case Mode::delaycompress:
      c << "  create\n  compress\n  delaycompress\n";
      break;
    case Mode::compress:
      c << "  create\n  compress\n";
      break;
  }
  if (mode != Mode::copytruncate)
    c << "  postrotate\n    kill -USR1 " << master << "\n  endscript\n";
  c << "}\n";
  return c.str();
}

void run_mode(Mode mode, bool per_ip_logs) {
  test::NginxPoolOptions options;
  options.egress_count = 3;
  options.per_ip_logs = per_ip_logs;
  test::NginxPool pool(options);
  const auto log = pool.access_log(pool.ips()[0]);  // per-IP: follow the first IP's log
  test::TempDir work("ipm-logrotate");
  const auto conf = work / "logrotate.conf";
  test::write_file(conf, logrotate_config(mode, log.string(), pool.master_pid()));
  ASSERT_EQ(pool.get(pool.ports()[0], "/first").status, 200);  // the log exists

  TailedLog tailed(log.string());
  RequestStream stream(pool);
  constexpr int kRotations = 3;
  for (int i = 0; i < kRotations; ++i) {
    ASSERT_TRUE(stream.wait_for_more(150)) << "request stream stalled";
    test::SpawnOptions rotate;
    rotate.argv = {"logrotate", "-f", "-s", (work / "state").string(), conf.string()};
    rotate.stderr_to = work / "logrotate.err";
    ASSERT_EQ(test::run_command(rotate), 0) << test::read_file(work / "logrotate.err");
  }
  ASSERT_TRUE(stream.wait_for_more(150));
  stream.stop();

  Counts answered = stream.answered();
  ++answered[pool.ips()[0]];  // the /first request
  if (per_ip_logs)
    answered = {{pool.ips()[0], answered[pool.ips()[0]]}};
  Counts in_files = count_files(log.parent_path(), log.filename().string());
  // A line nginx writes to the old file after the copy and before the truncation
  // (copytruncate), or after gzip read it (compress without delaycompress), is in no file
  // afterwards: logrotate's caveat, which no reader can undo. The other modes lose nothing.
  const bool nginx_may_lose = mode == Mode::copytruncate || mode == Mode::compress;
  if (!nginx_may_lose) {
    EXPECT_EQ(in_files, answered) << "nginx itself lost or duplicated lines";
  }
  // The tailer never repeats a line and reads every line that reached a file; in the lossy
  // modes it may also have read a line before logrotate dropped it.
  const auto settled = [&] { return tailed.total() >= total(in_files); };
  ASSERT_TRUE(test::wait_until(settled, std::chrono::seconds(10)));
  // One line more in the live log: once it is read, so is everything written before it.
  ASSERT_EQ(pool.get(pool.ports()[0], "/last").status, 200);
  ++answered[pool.ips()[0]];
  ++in_files[pool.ips()[0]];
  ASSERT_TRUE(test::wait_until([&] { return tailed.saw_last(); }, std::chrono::seconds(10)));
  const Counts seen = tailed.counts();
  if (nginx_may_lose) {
    for (const auto& [ip, n] : answered) {
      const int in_file = in_files.contains(ip) ? in_files.at(ip) : 0;
      const int read = seen.contains(ip) ? seen.at(ip) : 0;
      EXPECT_LE(in_file, read) << ip << ": a line in a file was not read";
      EXPECT_LE(read, n) << ip << ": a line was read twice";
    }
  } else {
    EXPECT_EQ(seen, answered);
  }
  EXPECT_GE(total(answered), per_ip_logs ? 150 : 3 * 150);  // the stream really ran
  const char* kind = mode == Mode::copytruncate ? "copytruncate" : "renamed";
  EXPECT_EQ(rotations_seen(tailed.registry(), kind), kRotations);

  int gz = 0;
  for (const auto& e : fs::directory_iterator(log.parent_path())) {
    gz += e.path().extension() == ".gz" ? 1 : 0;
  }
  if (mode == Mode::compress) {
    EXPECT_EQ(gz, kRotations);
  }
  if (mode == Mode::delaycompress) {
    EXPECT_EQ(gz, kRotations - 1);
  }
}

TEST(RotationE2ETest, create_and_reopen_loses_and_repeats_nothing) {
  run_mode(Mode::create, false);
}
TEST(RotationE2ETest, copytruncate_loses_and_repeats_nothing) {
  run_mode(Mode::copytruncate, false);
}
TEST(RotationE2ETest, delaycompress_loses_and_repeats_nothing) {
  run_mode(Mode::delaycompress, false);
}
TEST(RotationE2ETest, compress_loses_and_repeats_nothing) {
  run_mode(Mode::compress, false);
}
TEST(RotationE2ETest, per_ip_log_with_create_loses_and_repeats_nothing) {
  run_mode(Mode::create, true);
}

}  // namespace
}  // namespace ipm::scanner
