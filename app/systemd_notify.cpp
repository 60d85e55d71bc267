#include "app/systemd_notify.hpp"

#include <systemd/sd-daemon.h>

#include <string>

namespace ipm::app {
namespace {

void send(const std::string& state) {
  // unset_environment = 0: a reload notifies again through the same socket.
  sd_notify(0, state.c_str());
}

// STATUS is one line: a newline would start another assignment.
std::string one_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c == '\n')
      c = ' ';
  }
  return out;
}

}  // namespace

void notify_ready(std::string_view status) {
  send("READY=1\nSTATUS=" + one_line(status));
}

void notify_reloading() {
  send("RELOADING=1\nSTATUS=reloading");
}

void notify_stopping() {
  send("STOPPING=1\nSTATUS=stopping: draining proxied connections");
}

void notify_status(std::string_view status) {
  send("STATUS=" + one_line(status));
}

}  // namespace ipm::app
