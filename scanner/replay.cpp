#include "scanner/replay.hpp"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>

#include "scanner/log_file_reader.hpp"
#include "scanner/replay_progress.hpp"
#include "scanner/scanner_metrics.hpp"

namespace ipm::scanner {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kBatchLines = 16384;

struct Member {
  std::string plain;
  std::string gz;
};

/// `NAME.N` or `NAME.N.gz` -> N.
std::optional<unsigned> rotation_number(std::string_view file, std::string_view base, bool& gz) {
  if (!file.starts_with(base) || file.size() <= base.size() + 1 || file[base.size()] != '.') {
    return std::nullopt;
  }
  std::string_view rest = file.substr(base.size() + 1);
  gz = rest.ends_with(".gz");
  if (gz) {
    rest.remove_suffix(3);
  }
  unsigned n = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
  if (rest.empty() || ec != std::errc{} || end != rest.data() + rest.size() || n == 0) {
    return std::nullopt;
  }
  return n;
}

RotatedLog list_rotated(const std::string& live, std::vector<ReplayProblem>& problems) {
  RotatedLog log{live, {}};
  const fs::path path(live);
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string base = path.filename().string();
  std::map<unsigned, Member, std::greater<>> members;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    bool gz = false;
    if (const std::optional<unsigned> n = rotation_number(name, base, gz)) {
      (gz ? members[*n].gz : members[*n].plain) = it->path().string();
    }
  }
  if (members.empty()) {
    return log;
  }
  unsigned expected = members.begin()->first;
  for (const auto& [n, m] : members) {
    for (; expected > n; --expected) {
      const std::string missing = live + "." + std::to_string(expected);
      problems.push_back({missing, "missing",
                          missing + "[.gz]: missing from the rotated set; replay goes on "
                                    "without it"});
    }
    expected = n - 1;
    if (!m.plain.empty() && !m.gz.empty()) {
      problems.push_back({m.gz, "both_forms",
                          m.gz + ": exists next to " + m.plain +
                              " (compression interrupted?); the plain file is replayed"});
    }
    log.rotated.push_back(m.plain.empty() ? m.gz : m.plain);
  }
  for (; expected >= 1; --expected) {
    const std::string missing = live + "." + std::to_string(expected);
    problems.push_back(
        {missing, "missing", missing + "[.gz]: missing from the rotated set; replay goes on"});
  }
  return log;
}

/// One log's chain of rotated files, read one line at a time.
class Chain {
 public:
  Chain(const RotatedLog& log, LineParser& parser, ReplayReport& report)
      : log_(log), parser_(parser), report_(report) {}

  /// Moves to the next event of the chain; false when the chain is done.
  bool advance() {
    for (;;) {
      if (!reader_) {
        if (next_file_ >= log_.rotated.size()) {
          return false;
        }
        reader_ =
            std::make_unique<LogFileReader>(log_.rotated[next_file_++], parser_.max_line_bytes());
        file_lines_ = 0;
        file_first_time_.reset();
      }
      const std::optional<std::string_view> line = reader_->next_line();
      if (!line) {
        close_file();
        continue;
      }
      ++file_lines_;
      ++report_.lines;
      head_ = parser_.parse(*line);
      if (head_.ok()) {
        check_order();
        return true;
      }
    }
  }

  const pool::LogEvent& head() const { return head_.event; }
  std::uint64_t bytes_in_open_file() const { return reader_ ? reader_->file_bytes() : 0; }

 private:
  void close_file() {
    const std::string& file = reader_->path();
    ++report_.files;
    report_.bytes += reader_->file_bytes();
    switch (reader_->end()) {
      case ReadEnd::complete:
        if (file_lines_ == 0) {
          report_.problems.push_back({file, "empty", file + ": empty"});
        }
        break;
      case ReadEnd::unreadable:
        report_.problems.push_back({file, "unreadable", file + ": " + reader_->problem()});
        break;
      case ReadEnd::truncated:
        report_.problems.push_back({file, "truncated",
                                    file + ": " + reader_->problem() + "; " +
                                        std::to_string(file_lines_) + " lines replayed"});
        break;
      case ReadEnd::corrupt:
        report_.problems.push_back({file, "corrupt",
                                    file + ": " + reader_->problem() + "; " +
                                        std::to_string(file_lines_) + " lines replayed"});
        break;
    }
    reader_.reset();
  }

  void check_order() {
    if (file_first_time_) {
      return;
    }
    file_first_time_ = head_.event.time;
    if (previous_first_time_ && *file_first_time_ < *previous_first_time_) {
      const std::string& file = reader_->path();
      report_.problems.push_back(
          {file, "out_of_order",
           file + ": starts before " + previous_file_ +
               " although its name says it is newer; files are replayed in name order"});
    }
    previous_first_time_ = file_first_time_;
    previous_file_ = reader_->path();
  }

  const RotatedLog& log_;
  LineParser& parser_;
  ReplayReport& report_;
  std::size_t next_file_ = 0;
  std::unique_ptr<LogFileReader> reader_;
  std::uint64_t file_lines_ = 0;
  std::optional<pool::TimePoint> file_first_time_;
  std::optional<pool::TimePoint> previous_first_time_;
  std::string previous_file_;
  ParsedLine head_;
};

std::uint64_t total_size(const ReplayPlan& plan) {
  std::uint64_t total = 0;
  for (const RotatedLog& log : plan.logs) {
    for (const std::string& file : log.rotated) {
      std::error_code ec;
      const auto size = fs::file_size(file, ec);
      total += ec ? 0 : size;
    }
  }
  return total;
}

}  // namespace

std::size_t ReplayPlan::rotated_files() const {
  std::size_t n = 0;
  for (const RotatedLog& log : logs) {
    n += log.rotated.size();
  }
  return n;
}

ReplayPlan plan_replay(std::string_view access_log_path,
                       const std::vector<pool::Egress>& egresses) {
  ReplayPlan plan;
  const std::string path(access_log_path);
  const std::size_t marker = path.find("%s");
  if (marker == std::string::npos) {
    plan.logs.push_back(list_rotated(path, plan.problems));
    return plan;
  }
  std::set<std::string> seen;
  for (const pool::Egress& e : egresses) {
    if (seen.insert(e.ip).second) {
      std::string live = path;
      live.replace(marker, 2, e.ip);
      plan.logs.push_back(list_rotated(live, plan.problems));
    }
  }
  return plan;
}

ReplayReport replay(const ReplayPlan& plan, LineParser& parser, const EventSink& sink,
                    const ReplayOptions& options) {
  ReplayReport report;
  report.problems = plan.problems;
  if (options.progress != nullptr) {
    options.progress->start(plan.rotated_files(), total_size(plan));
  }

  std::vector<std::unique_ptr<Chain>> chains;
  for (const RotatedLog& log : plan.logs) {
    if (!log.rotated.empty()) {
      chains.push_back(std::make_unique<Chain>(log, parser, report));
    }
  }
  // Oldest head first; ties go to the earlier log so a single log keeps its file order.
  const auto later = [&](std::size_t a, std::size_t b) {
    const pool::TimePoint ta = chains[a]->head().time;
    const pool::TimePoint tb = chains[b]->head().time;
    return ta != tb ? ta > tb : a > b;
  };
  std::priority_queue<std::size_t, std::vector<std::size_t>, decltype(later)> heads(later);
  for (std::size_t i = 0; i < chains.size(); ++i) {
    if (chains[i]->advance()) {
      heads.push(i);
    }
  }

  std::uint64_t next_batch = kBatchLines;
  const auto flush = [&](bool final) {
    if (options.metrics != nullptr) {
      options.metrics->add(parser.take_counts());
    }
    if (options.progress != nullptr) {
      std::uint64_t bytes = report.bytes;
      for (const auto& c : chains) {
        bytes += c->bytes_in_open_file();
      }
      if (final) {
        options.progress->finish(report.files, bytes, report.lines);
      } else {
        options.progress->update(report.files, bytes, report.lines);
      }
    }
  };

  while (!heads.empty()) {
    const std::size_t i = heads.top();
    heads.pop();
    sink(chains[i]->head());
    ++report.events;
    if (chains[i]->advance()) {
      heads.push(i);
    }
    if (report.lines >= next_batch) {
      next_batch = report.lines + kBatchLines;
      flush(false);
    }
  }
  flush(true);
  for (const ReplayProblem& p : report.problems) {
    if (options.metrics != nullptr) {
      options.metrics->add_replay_problem(p.kind);
    }
  }
  return report;
}

}  // namespace ipm::scanner
