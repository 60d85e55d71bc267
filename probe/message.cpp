#include "probe/message.hpp"

#include "probe/json_writer.hpp"

namespace ipm::probe {

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string body_of(Response& response) {
  if (!response.stream)
    return response.message.body();
  std::string body;
  while (response.stream->next(body)) {
  }
  return body;
}

Response text_response(http::status status, std::string text, std::string_view content_type) {
  Response r;
  r.message.result(status);
  r.message.set(http::field::content_type, content_type);
  r.message.body() = std::move(text);
  return r;
}

Response error_response(http::status status, std::string_view message) {
  std::string body = "{\"error\":";
  append_json_string(body, message);
  body += "}\n";
  return text_response(status, std::move(body), "application/json");
}

Response streamed_json(std::unique_ptr<BodySource> source) {
  Response r;
  r.message.result(http::status::ok);
  r.message.set(http::field::content_type, "application/json");
  r.stream = std::move(source);
  return r;
}

}  // namespace ipm::probe
