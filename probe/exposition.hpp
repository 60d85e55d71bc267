#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include <prometheus/metric_type.h>

namespace ipm::probe {

/// A collectable that can also write its own Prometheus text exposition, skipping the
/// MetricFamily objects and the ostream of prometheus-cpp's TextSerializer. /metrics uses
/// AppendText() for these and TextSerializer for every other collectable; AppendText()
/// must append exactly what TextSerializer writes for Collect()'s families.
class TextExposition {
 public:
  virtual ~TextExposition() = default;
  /// Appends the text. `others` is the number of series the rest of the scrape holds, for a
  /// cap on the whole scrape; returns the number of series appended.
  virtual std::size_t AppendText(std::string& out, std::size_t others) const = 0;
};

/// One label of a series, viewed (not owned) while the line is written.
struct LabelView {
  std::string_view name;
  std::string_view value;
};

/// Appends text exposition lines to a string, byte-identical to prometheus-cpp 1.0.1's
/// TextSerializer for counters and gauges without timestamps: "# HELP" (help verbatim),
/// "# TYPE", then `name{label="value",...} value` with `\`, `"` and newline escaped in
/// label values and the value printed as printf's "%.16g" (Nan, +Inf, -Inf).
/// Not thread-safe (one writer per string).
class ExpositionWriter {
 public:
  explicit ExpositionWriter(std::string& out) : out_(out) {}

  /// Starts a family: its HELP (when not empty) and TYPE lines. Only counter and gauge.
  void family(std::string_view name, std::string_view help, prometheus::MetricType type);
  /// One series of the current family.
  void series(std::span<const LabelView> labels, double value);
  void series(std::initializer_list<LabelView> labels, double value) {
    series(std::span<const LabelView>(labels.begin(), labels.size()), value);
  }

 private:
  std::string& out_;
  std::string_view name_;
};

/// Series (sample lines) in a text exposition: the lines that are neither empty nor comments.
std::size_t count_series(std::string_view text);

/// `value` as TextSerializer prints it ("%.16g" in the classic locale; Nan, +Inf, -Inf).
void append_metric_value(std::string& out, double value);

}  // namespace ipm::probe
