#pragma once

#include <initializer_list>
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
  virtual void AppendText(std::string& out) const = 0;
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
  void series(std::initializer_list<LabelView> labels, double value);

 private:
  std::string& out_;
  std::string_view name_;
};

/// `value` as TextSerializer prints it ("%.16g" in the classic locale; Nan, +Inf, -Inf).
void append_metric_value(std::string& out, double value);

}  // namespace ipm::probe
