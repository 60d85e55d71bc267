#include "probe/decision_json.hpp"

#include "probe/json_writer.hpp"

namespace ipm::probe {

void append_json_time_or_null(std::string& out, pool::TimePoint t) {
  if (t == pool::TimePoint{})
    out += "null";
  else
    append_json_time(out, t);
}

void append_decision_json(std::string& out, const strategy::DecisionRecord& d) {
  out += "{\"seq\":";
  append_json_int(out, static_cast<std::int64_t>(d.seq));
  out += ",\"time\":";
  append_json_time(out, d.time);
  out += ",\"ip\":";
  append_json_string(out, d.ip);
  if (!d.site.empty()) {  // a decision about one site of the IP (health per target)
    out += ",\"site\":";
    append_json_string(out, d.site);
  }
  out += ",\"kind\":";
  append_json_string(out, to_string(d.kind));
  out += ",\"from\":";
  append_json_string(out, to_string(d.from));
  out += ",\"to\":";
  append_json_string(out, to_string(d.to));
  out += ",\"reason\":";
  append_json_string(out, d.reason);
  out += ",\"cause\":";
  append_json_string(out, to_string(d.cause.kind));
  out += ",\"until\":";
  append_json_time_or_null(out, d.until);
  out += '}';
}

}  // namespace ipm::probe
