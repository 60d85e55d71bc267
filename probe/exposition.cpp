#include "probe/exposition.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace ipm::probe {

namespace {

// TextSerializer's type names; it writes a TYPE line for every family.
std::string_view type_name(prometheus::MetricType type) {
  switch (type) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Summary:
      return "summary";
    case prometheus::MetricType::Untyped:
      return "untyped";
    case prometheus::MetricType::Histogram:
      return "histogram";
  }
  return "untyped";
}

void append_label_value(std::string& out, std::string_view value) {
  // Almost every value (IPs, ports, statuses, host names) needs no escape: one append.
  bool plain = true;
  for (const char c : value)
    plain &= c != '\\' && c != '"' && c != '\n';
  if (plain) {
    out += value;
    return;
  }
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

std::size_t count_series(std::string_view text) {
  std::size_t n = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    if (!line.empty() && line.front() != '#')
      ++n;
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
  }
  return n;
}

void append_metric_value(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "Nan";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-Inf" : "+Inf";
    return;
  }
  char buffer[32];
  std::to_chars_result r{};
  // Most values are small whole numbers (flags, counts): print them as integers, which is
  // what "%.16g" prints for integers below 1e16. -0 keeps its sign through the general path.
  if (value == std::trunc(value) && std::fabs(value) < 1e15 && !std::signbit(value)) {
    r = std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value));
  } else {
    r = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 16);
  }
  if (r.ec != std::errc{})
    throw std::logic_error("metric value does not fit its buffer");
  out.append(buffer, r.ptr);
}

void ExpositionWriter::family(std::string_view name, std::string_view help,
                              prometheus::MetricType type) {
  name_ = name;
  if (!help.empty()) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += '\n';
  }
  out_ += "# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void ExpositionWriter::series(std::span<const LabelView> labels, double value) {
  out_ += name_;
  if (labels.size() > 0) {
    char separator = '{';
    for (const LabelView& l : labels) {
      out_ += separator;
      out_ += l.name;
      out_ += "=\"";
      append_label_value(out_, l.value);
      out_ += '"';
      separator = ',';
    }
    out_ += '}';
  }
  out_ += ' ';
  append_metric_value(out_, value);
  out_ += '\n';
}

}  // namespace ipm::probe
