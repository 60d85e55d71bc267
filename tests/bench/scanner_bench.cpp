// Scanner throughput, file to events: generates a log in the default format (N lines over M
// egress IPs), then replays it plain and gzipped through the line parser into a sink that
// counts lines by (port, status) — the same work as the mtail program in
// scanner_vs_mtail.sh. Also times the regex alone (the parser of record) and the upstream
// config parser on a 5,000-block config. Prints one `key=value` line per figure.
//
// usage: scanner_bench DIR [LINES] [IPS]     (DIR is created and filled; keep it for mtail)

#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "scanner/line_parser.hpp"
#include "scanner/log_file_reader.hpp"
#include "scanner/replay.hpp"
#include "scanner/upstream_config.hpp"
#include "tests/bench/bench_log.hpp"
#include "tests/scanner/log_samples.hpp"

namespace {

namespace fs = std::filesystem;
using namespace ipm;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void write_inputs(const fs::path& dir, long lines, int ips) {
  fs::create_directories(dir / "plain");
  fs::create_directories(dir / "gz");
  {
    std::ofstream conf(dir / "upstream.conf");
    conf << test::go_style_config(ips);
    std::ofstream big(dir / "upstream5000.conf");
    big << test::go_style_config(5000);
  }
  test::BenchLogLines generator(ips);
  std::ofstream plain(dir / "plain/access.log.1", std::ios::binary);
  gzFile gz = gzopen((dir / "gz/access.log.1.gz").c_str(), "wb6");
  std::string buffer;
  for (long i = 0; i < lines; ++i) {
    buffer += generator.next(i).text;
    buffer += '\n';
    if (buffer.size() > (1 << 20) || i + 1 == lines) {
      plain.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      gzwrite(gz, buffer.data(), static_cast<unsigned>(buffer.size()));
      buffer.clear();
    }
  }
  gzclose(gz);
}

struct Tally {
  std::vector<std::uint64_t> by_port_status = std::vector<std::uint64_t>(65536 * 6, 0);
  std::uint64_t events = 0;
  void add(const pool::LogEvent& e) {
    ++by_port_status[e.port * 6u + static_cast<unsigned>(e.status / 100)];
    ++events;
  }
};

void replay_bench(const char* name, const fs::path& log, const scanner::UpstreamConfig& up) {
  scanner::LineParser parser(scanner::LogFormat::compile(config::kDefaultLogFormat), up.bindings,
                             64 * 1024);
  Tally tally;
  const double c0 = cpu_seconds();
  const auto w0 = std::chrono::steady_clock::now();
  const scanner::ReplayReport report =
      scanner::replay(scanner::plan_replay(log.string(), up.egresses), parser,
                      [&](const pool::LogEvent& e) { tally.add(e); });
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  const double cpu = cpu_seconds() - c0;
  std::printf(
      "%s_lines=%llu %s_events=%llu %s_cpu_s=%.3f %s_wall_s=%.3f "
      "%s_lines_per_cpu_s=%.0f %s_MB_per_cpu_s=%.1f fast_path_share=%.4f\n",
      name, static_cast<unsigned long long>(report.lines), name,
      static_cast<unsigned long long>(tally.events), name, cpu, name, wall, name,
      static_cast<double>(report.lines) / cpu, name,
      static_cast<double>(parser.counts().bytes) / cpu / 1e6,
      static_cast<double>(parser.fast_path_hits()) /
          static_cast<double>(std::max<std::uint64_t>(1, report.lines)));
}

void regex_only_bench(const fs::path& file, const scanner::UpstreamConfig& up) {
  scanner::LineParser parser(scanner::LogFormat::compile(config::kDefaultLogFormat), up.bindings,
                             64 * 1024);
  scanner::LogFileReader reader(file.string(), 64 * 1024);
  Tally tally;
  std::uint64_t lines = 0;
  const double c0 = cpu_seconds();
  while (const auto line = reader.next_line()) {
    ++lines;
    const scanner::ParsedLine p = parser.parse_with_regex(*line);
    if (p.ok()) {
      tally.add(p.event);
    }
  }
  const double cpu = cpu_seconds() - c0;
  std::printf("regex_only_lines=%llu regex_only_events=%llu regex_only_lines_per_cpu_s=%.0f\n",
              static_cast<unsigned long long>(lines), static_cast<unsigned long long>(tally.events),
              static_cast<double>(lines) / cpu);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [LINES] [IPS]\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  const long lines = argc > 2 ? std::stol(argv[2]) : 1000000;
  const int ips = argc > 3 ? std::stoi(argv[3]) : 300;
  write_inputs(dir, lines, ips);
  std::printf("generated_lines=%ld ips=%d plain_bytes=%llu gz_bytes=%llu\n", lines, ips,
              static_cast<unsigned long long>(fs::file_size(dir / "plain/access.log.1")),
              static_cast<unsigned long long>(fs::file_size(dir / "gz/access.log.1.gz")));

  const double c0 = cpu_seconds();
  const scanner::UpstreamConfig big = scanner::parse_upstream_config(dir / "upstream5000.conf");
  std::printf("upstream_5000_blocks_egresses=%zu upstream_5000_blocks_cpu_s=%.3f\n",
              big.egresses.size(), cpu_seconds() - c0);

  const scanner::UpstreamConfig up = scanner::parse_upstream_config(dir / "upstream.conf");
  replay_bench("plain", dir / "plain/access.log", up);
  replay_bench("gz", dir / "gz/access.log", up);
  regex_only_bench(dir / "plain/access.log.1", up);
  return 0;
}
