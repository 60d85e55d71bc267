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
      format_(scanner::LogFormat::compile(config.log_format)),
      bindings_(bindings),
      ips_(ips_of(bindings)),
      engine_(engine),
      registry_(registry),
      metrics_(registry),
      parser_(std::make_unique<scanner::LineParser>(format_, bindings, config.max_line_bytes)) {}

LogPipeline::~LogPipeline() {
  stop();
}

void LogPipeline::start() {
  const bool parse_mode = config_.mode == config::Mode::parse;
  if (parse_mode) {
    const scanner::ReplayPlan plan = scanner::plan_replay(config_.access_log_path, bindings_);
    auto progress = scanner::ReplayProgress::for_stderr();
    const scanner::ReplayReport report =
        scanner::replay(plan, *parser_, [this](const pool::LogEvent& e) { engine_.apply(e); },
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
  tailer_ = std::make_unique<scanner::Tailer>(
      executor_, std::move(options),
      [this](std::string_view line, const scanner::FileId&) { on_line(line); }, registry_);
  tailer_->start();
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
  // Per-IP logs (%s) of new IPs are followed from the next restart; say so rather than
  // silently missing them.
  if (config_.access_log_path.find("%s") != std::string::npos && ips_of(bindings) != ips_) {
    log_warn() << "upstream config changed the egress IPs: per-IP logs of added IPs are "
                  "followed after a restart";
  }
}

void LogPipeline::flush_counts() {
  if (parser_)
    metrics_.add(parser_->take_counts());
}

void LogPipeline::on_line(std::string_view line) {
  const scanner::ParsedLine parsed = parser_->parse(line);
  if (parsed.ok())
    engine_.apply(parsed.event);
}

}  // namespace ipm::app
