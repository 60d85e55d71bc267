#include "app/log_pipeline.hpp"

#include "app/log.hpp"
#include "scanner/replay.hpp"
#include "scanner/replay_progress.hpp"

namespace ipm::app {
namespace {

std::vector<std::string> ips_of(const std::vector<pool::Egress>& egresses) {
  std::vector<std::string> ips;
  for (const auto& e : egresses) {
    if (std::find(ips.begin(), ips.end(), e.ip) == ips.end())
      ips.push_back(e.ip);
  }
  return ips;
}

}  // namespace

LogPipeline::LogPipeline(boost::asio::any_io_executor executor, const config::Config& config,
                         const std::vector<pool::Egress>& bindings, strategy::SharedEngine& engine,
                         prometheus::Registry& registry)
    : executor_(std::move(executor)),
      config_(config),
      format_(scanner::LogFormat::compile(config.log_format, config.target_variable)),
      bindings_(bindings),
      ips_(ips_of(bindings)),
      engine_(engine),
      registry_(registry),
      metrics_(registry),
      replay_done_(registry),
      parser_(std::make_unique<scanner::LineParser>(format_, bindings, config.max_line_bytes)) {}

LogPipeline::~LogPipeline() {
  stop();
}

void LogPipeline::start() {
  const auto started = std::chrono::steady_clock::now();
  const bool parse_mode = config_.mode == config::Mode::parse;
  scanner::ReplayReport report;
  if (parse_mode) {
    // Selection keeps the start's snapshot until the replay is over (SharedEngine).
    engine_.hold_snapshots();
    log_batch_.emplace();
    const scanner::ReplayPlan plan = scanner::plan_replay(config_.access_log_path, bindings_);
    auto progress = scanner::ReplayProgress::for_stderr();
    report = scanner::replay(plan, *parser_, [this](const pool::LogEvent& e) { engine_.apply(e); },
                             {&progress, &metrics_});
    for (const auto& problem : report.problems)
      log_warn() << "replay: " << problem.message;
    log_info() << "replay: " << report.files << " rotated files, " << report.lines << " lines, "
               << report.events << " events";
  }

  auto options = scanner::TailerOptions::from_config(
      config_, scanner::expand_log_paths(config_.access_log_path, ips_));
  options.start_at_end = !parse_mode;
  options.log = [](std::string_view message) { log_warn() << "tail: " << message; };
  if (parse_mode) {
    options.on_caught_up = [this, started, rotated = report] {
      engine_.release_snapshots();
      log_batch_.reset();
      flush_counts();
      replay_done_.mark_parsed({.lines = rotated.lines + tailed_lines_,
                                .events = rotated.events + tailed_events_,
                                .took = std::chrono::steady_clock::now() - started});
    };
  }
  tailer_ = std::make_unique<scanner::Tailer>(
      executor_, std::move(options),
      [this](std::span<const std::string_view> lines, const scanner::FileId&) { on_lines(lines); },
      registry_);
  tailer_->start();
  if (!parse_mode)
    replay_done_.mark_nothing_to_replay();
  tailer_published_.store(tailer_.get(), std::memory_order_release);
}

void LogPipeline::stop() {
  if (tailer_)
    tailer_->stop();
  flush_counts();
}

void LogPipeline::rebind(const std::vector<pool::Egress>& bindings) {
  flush_counts();
  parser_ = std::make_unique<scanner::LineParser>(format_, bindings, config_.max_line_bytes);
  bindings_ = bindings;
  // Per-IP logs (%s): an added IP's log is followed from now on. A removed IP's log stays
  // followed; its lines name an IP the engine no longer has and are ignored there.
  std::vector<std::string> added;
  for (std::string& ip : ips_of(bindings)) {
    if (std::find(ips_.begin(), ips_.end(), ip) == ips_.end()) {
      ips_.push_back(ip);
      added.push_back(std::move(ip));
    }
  }
  if (!tailer_ || added.empty() || config_.access_log_path.find("%s") == std::string::npos)
    return;
  for (std::string& path : scanner::expand_log_paths(config_.access_log_path, added)) {
    log_info() << "following " << path << " (egress IP added)";
    tailer_->follow(std::move(path));
  }
}

std::vector<scanner::FollowedFile> LogPipeline::files() const {
  const scanner::Tailer* tailer = tailer_published_.load(std::memory_order_acquire);
  return tailer != nullptr ? tailer->files() : std::vector<scanner::FollowedFile>{};
}

void LogPipeline::flush_counts() {
  if (!parser_)
    return;
  const scanner::LineCounts counts = parser_->take_counts();
  tailed_lines_ += counts.total();
  tailed_events_ += counts.of(scanner::LineResult::parsed);
  metrics_.add(counts);
}

// One batch (a read of the tailer): parsed whole, applied under one engine lock, counted.
void LogPipeline::on_lines(std::span<const std::string_view> lines) {
  batch_.clear();
  for (const std::string_view line : lines) {
    const scanner::ParsedLine parsed = parser_->parse(line);
    if (parsed.ok()) {
      batch_.push_back(parsed.event);
    } else if (debug_enabled()) {
      // `debug: true` (live on SIGHUP) shows which lines are left out and why: the first
      // thing to look at when a log_format does not match what nginx writes.
      log_debug() << "log line not used (" << scanner::to_string(parsed.result)
                  << "): " << line.substr(0, 300);
    }
  }
  if (!batch_.empty())
    engine_.apply(std::span<const pool::LogEvent>(batch_));
  flush_counts();
  // A line gathered by the log batch waits at most 16 reads (1 MB of log) for its write.
  if (log_batch_ && ++batches_ % 16 == 0)
    LogBatch::flush();
}

}  // namespace ipm::app
