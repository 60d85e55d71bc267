// Writes the inputs of tests/bench/replay_vs_mtail.sh: one generated access log (see
// bench_log.hpp) laid out three ways, the same lines in each.
//
//   DIR/upstream.conf         the pool: IPS server blocks in the Go tool's style
//   DIR/single/access.log     every line, one live file, nothing rotated
//   DIR/rotated/access.log.2.gz, access.log.1, access.log
//                             the oldest third gzipped, the next third rotated, the rest live
//   DIR/perip/access.IP.log   each IP's lines in its own live file (access_log_path with %s)
//
// usage: replay_bench_logs DIR [LINES] [IPS]

#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "tests/bench/bench_log.hpp"
#include "tests/scanner/log_samples.hpp"

namespace {

namespace fs = std::filesystem;

// Buffers writes to one file; plain or gzip (level 6, as logrotate's default).
class Out {
 public:
  Out(const fs::path& path, bool gzip) {
    if (gzip) {
      gz_ = gzopen(path.c_str(), "wb6");
    } else {
      plain_.open(path, std::ios::binary);
    }
  }
  ~Out() {
    flush();
    if (gz_ != nullptr)
      gzclose(gz_);
  }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  void line(const std::string& text) {
    buffer_ += text;
    buffer_ += '\n';
    if (buffer_.size() > (1 << 20))
      flush();
  }

 private:
  void flush() {
    if (gz_ != nullptr) {
      gzwrite(gz_, buffer_.data(), static_cast<unsigned>(buffer_.size()));
    } else {
      plain_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    }
    buffer_.clear();
  }

  std::ofstream plain_;
  gzFile gz_ = nullptr;
  std::string buffer_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [LINES] [IPS]\n", argv[0]);
    return 2;
  }
  const fs::path dir = argv[1];
  const long lines = argc > 2 ? std::stol(argv[2]) : 1000000;
  const int ips = argc > 3 ? std::stoi(argv[3]) : 300;
  for (const char* sub : {"single", "rotated", "perip"})
    fs::create_directories(dir / sub);
  std::ofstream(dir / "upstream.conf") << ipm::test::go_style_config(ips);

  Out single(dir / "single/access.log", false);
  std::vector<std::unique_ptr<Out>> rotated;
  rotated.push_back(std::make_unique<Out>(dir / "rotated/access.log.2.gz", true));
  rotated.push_back(std::make_unique<Out>(dir / "rotated/access.log.1", false));
  rotated.push_back(std::make_unique<Out>(dir / "rotated/access.log", false));
  std::vector<std::unique_ptr<Out>> perip;
  for (int k = 0; k < ips; ++k) {
    perip.push_back(
        std::make_unique<Out>(dir / ("perip/access." + ipm::test::go_style_ip(k) + ".log"), false));
  }

  ipm::test::BenchLogLines generator(ips);
  for (long i = 0; i < lines; ++i) {
    const ipm::test::BenchLine line = generator.next(i);
    single.line(line.text);
    rotated[static_cast<std::size_t>(i * 3 / lines)]->line(line.text);
    perip[static_cast<std::size_t>(line.ip)]->line(line.text);
  }
  std::printf("generated_lines=%ld ips=%d\n", lines, ips);
  return 0;
}
