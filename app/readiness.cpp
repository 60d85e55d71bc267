#include "app/readiness.hpp"

namespace ipm::app {

std::vector<std::string> Readiness::waiting_for() const {
  std::vector<std::string> out;
  if (!pool_config_read_)
    out.emplace_back("the pool config (upstream_conf_path) is not read yet");
  if (!replay_done_)
    out.emplace_back("the replay of the rotated logs (mode parse) is not done yet");
  if (logs_) {
    for (const scanner::FollowedFile& f : logs_()) {
      if (!f.open)
        out.push_back("access log " + f.path + ": " + f.problem);
    }
  }
  return out;
}

}  // namespace ipm::app
