#include "probe/exposition.hpp"

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include <gtest/gtest.h>
#include <prometheus/text_serializer.h>

namespace {

using ipm::probe::ExpositionWriter;
using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::string serialized(const std::vector<MetricFamily>& families) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return std::move(out).str();
}

// What TextSerializer prints for one gauge value, without its "x " and newline.
std::string serialized_value(double value) {
  MetricFamily f{"x", "", MetricType::Gauge, {}};
  f.metric.emplace_back().gauge.value = value;
  const std::string line = serialized({f});
  const std::size_t start = line.find("\nx ") + 3;
  return line.substr(start, line.size() - start - 1);
}

std::string written_value(double value) {
  std::string out;
  ipm::probe::append_metric_value(out, value);
  return out;
}

TEST(ExpositionTest, values_print_as_text_serializer_prints_them) {
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> values = {0.0,
                                -0.0,
                                1.0,
                                -1.0,
                                0.1,
                                2.5,
                                37.5,
                                300.0,
                                3600.0,
                                1e-5,
                                1.5e-7,
                                1e14 + 1,
                                1e15 - 1,
                                1e15,
                                1e16,
                                1e20,
                                123456789012345678.0,
                                9007199254740993.0,
                                18446744073709551615.0,
                                std::numeric_limits<double>::max(),
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::denorm_min(),
                                std::numeric_limits<double>::lowest(),
                                std::numeric_limits<double>::quiet_NaN(),
                                inf,
                                -inf};
  std::mt19937_64 random(7);
  std::uniform_real_distribution<double> mantissa(-10.0, 10.0);
  std::uniform_int_distribution<int> exponent(-30, 30);
  std::uniform_int_distribution<std::int64_t> whole(-(std::int64_t{1} << 53),
                                                    std::int64_t{1} << 53);
  for (int i = 0; i < 20'000; ++i) {
    values.push_back(std::ldexp(mantissa(random), exponent(random)));
    values.push_back(static_cast<double>(whole(random)));
    values.push_back(static_cast<double>(whole(random) % 100'000) / 8);
  }
  for (const double v : values)
    ASSERT_EQ(written_value(v), serialized_value(v))
        << "value bits " << std::bit_cast<std::uint64_t>(v);
}

TEST(ExpositionTest, families_print_as_text_serializer_prints_them) {
  std::vector<MetricFamily> families;
  families.push_back(
      MetricFamily{"a_total", "Help with \"quotes\" and \\.", MetricType::Counter, {}});
  auto& a = families.back().metric;
  a.emplace_back().counter.value = 3;
  a.emplace_back().label = {{"k", "plain"}};
  a.back().counter.value = 1;
  a.emplace_back().label = {{"k", "q\"b\\n\nx"}, {"l", ""}, {"m", "\xc3\xa9t\xc3\xa9"}};
  a.back().counter.value = 0.25;
  families.push_back(MetricFamily{"b", "", MetricType::Gauge, {}});  // no HELP line
  families.back().metric.emplace_back().gauge.value = -2;
  families.push_back(MetricFamily{"c", "Empty family.", MetricType::Gauge, {}});

  std::string text;
  ExpositionWriter out(text);
  out.family("a_total", "Help with \"quotes\" and \\.", MetricType::Counter);
  out.series({}, 3);
  out.series({{"k", "plain"}}, 1);
  out.series({{"k", "q\"b\\n\nx"}, {"l", ""}, {"m", "\xc3\xa9t\xc3\xa9"}}, 0.25);
  out.family("b", "", MetricType::Gauge);
  out.series({}, -2);
  out.family("c", "Empty family.", MetricType::Gauge);
  EXPECT_EQ(text, serialized(families));
}

}  // namespace
