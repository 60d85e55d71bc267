#include "app/action_journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include <boost/json.hpp>

namespace ipm::app {
namespace {

namespace json = boost::json;
using pool::OperatorAction;

std::runtime_error failure(const std::filesystem::path& path, std::string_view what) {
  return std::runtime_error(path.string() + ": " + std::string(what) + ": " + std::strerror(errno));
}

std::int64_t unix_ms(pool::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

pool::TimePoint from_unix_ms(std::int64_t ms) {
  return pool::TimePoint(
      std::chrono::duration_cast<pool::TimePoint::duration>(std::chrono::milliseconds(ms)));
}

// Writes all of `text` to `fd` and fsyncs it.
void write_all(int fd, const std::string& text, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      throw failure(path, "write");
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0)
    throw failure(path, "fsync");
}

void fsync_dir(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw failure(dir, "open");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0)
    throw failure(dir, "fsync");
}

}  // namespace

std::string to_journal_line(const OperatorAction& a) {
  json::object o;
  o["action"] = to_string(a.kind);
  o["ip"] = a.ip;
  o["time_ms"] = unix_ms(a.time);
  if (a.kind == OperatorAction::Kind::ban) {
    o["until_ms"] =
        a.until == pool::TimePoint::max() ? json::value(nullptr) : json::value(unix_ms(a.until));
    o["reason"] = a.reason;
  }
  if (a.kind == OperatorAction::Kind::weight)
    o["weight"] = a.weight;
  else if (!a.target.empty())
    o["target"] = a.target;
  o["client"] = a.client;
  return json::serialize(o);
}

OperatorAction from_journal_line(std::string_view line) {
  json::error_code ec;
  const json::value v = json::parse(line, ec);
  if (ec)
    throw std::runtime_error("not JSON: " + ec.message());
  const json::object* o = v.if_object();
  if (o == nullptr)
    throw std::runtime_error("not a JSON object");
  auto string_field = [&](std::string_view name) -> std::string {
    const json::value* f = o->if_contains(name);
    if (f == nullptr || !f->is_string())
      throw std::runtime_error("no string \"" + std::string(name) + "\"");
    return std::string(f->as_string());
  };
  auto int_field = [&](std::string_view name) -> std::int64_t {
    const json::value* f = o->if_contains(name);
    if (f == nullptr || !f->is_int64())
      throw std::runtime_error("no integer \"" + std::string(name) + "\"");
    return f->as_int64();
  };
  OperatorAction a;
  const std::string kind = string_field("action");
  if (kind == "ban")
    a.kind = OperatorAction::Kind::ban;
  else if (kind == "unban")
    a.kind = OperatorAction::Kind::unban;
  else if (kind == "reset")
    a.kind = OperatorAction::Kind::reset;
  else if (kind == "weight")
    a.kind = OperatorAction::Kind::weight;
  else if (kind == "disable")
    a.kind = OperatorAction::Kind::disable;
  else if (kind == "enable")
    a.kind = OperatorAction::Kind::enable;
  else
    throw std::runtime_error("unknown action \"" + kind + "\"");
  a.ip = string_field("ip");
  a.time = from_unix_ms(int_field("time_ms"));
  a.client = string_field("client");
  if (a.kind == OperatorAction::Kind::ban) {
    const json::value* until = o->if_contains("until_ms");
    if (until == nullptr || !(until->is_null() || until->is_int64()))
      throw std::runtime_error("no \"until_ms\" (an integer or null)");
    if (until->is_int64())
      a.until = from_unix_ms(until->as_int64());
    a.reason = string_field("reason");
  }
  if (a.kind == OperatorAction::Kind::weight) {
    const std::int64_t w = int_field("weight");
    if (w < 0 || w > 1'000'000)
      throw std::runtime_error("weight out of range");
    a.weight = static_cast<std::uint32_t>(w);
  } else if (o->contains("target")) {
    a.target = string_field("target");  // a per-site action (health per target)
  }
  return a;
}

ActionJournal::ActionJournal(std::filesystem::path state_dir)
    : dir_(std::move(state_dir)), path_(dir_ / "actions.journal") {}

ActionJournal::Loaded ActionJournal::load() {
  std::lock_guard lock(mutex_);
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    throw std::runtime_error("state_dir " + dir_.string() + ": " + ec.message());
  Loaded out;
  std::ifstream in(path_, std::ios::binary);
  if (!in) {
    if (errno != ENOENT && std::filesystem::exists(path_))
      throw failure(path_, "cannot read");
    return out;
  }
  std::string line;
  std::size_t number = 0;
  bool corrupt = false;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty())
      continue;
    if (in.eof()) {  // no newline after it: an append that did not finish
      out.problems.push_back(path_.string() + ":" + std::to_string(number) +
                             ": the last line is cut short (an interrupted write)");
      corrupt = true;
      break;
    }
    try {
      out.actions.push_back(from_journal_line(line));
    } catch (const std::exception& e) {
      out.problems.push_back(path_.string() + ":" + std::to_string(number) + ": " + e.what());
      corrupt = true;
    }
  }
  in.close();
  if (corrupt) {
    const auto now = std::chrono::system_clock::now().time_since_epoch();
    const auto aside =
        path_.string() + ".corrupt-" +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now).count());
    std::filesystem::rename(path_, aside, ec);
    out.problems.push_back(ec ? "could not set the journal aside: " + ec.message()
                              : "the journal was set aside as " + aside + "; " +
                                    std::to_string(out.actions.size()) +
                                    " actions that parsed are kept");
  }
  return out;
}

void ActionJournal::rewrite(const std::vector<OperatorAction>& actions) {
  std::lock_guard lock(mutex_);
  std::string text;
  for (const auto& a : actions)
    text += to_journal_line(a) + "\n";
  const std::filesystem::path tmp = path_.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    throw failure(tmp, "cannot write");
  try {
    write_all(fd, text, tmp);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path_.c_str()) != 0)
    throw failure(path_, "rename");
  fsync_dir(dir_);
}

void ActionJournal::compact(const Loaded& loaded, const std::vector<OperatorAction>& kept) {
  if (!loaded.problems.empty() || kept != loaded.actions) {
    rewrite(kept);
    return;
  }
  std::lock_guard lock(mutex_);
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    throw failure(path_, "cannot append");
  ::close(fd);
}

void ActionJournal::append(const OperatorAction& action) {
  std::lock_guard lock(mutex_);
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    throw failure(path_, "cannot append");
  try {
    write_all(fd, to_journal_line(action) + "\n", path_);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

}  // namespace ipm::app
