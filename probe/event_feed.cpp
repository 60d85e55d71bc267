#include "probe/event_feed.hpp"

#include <random>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "probe/json_writer.hpp"
#include "probe/sse.hpp"

namespace ipm::probe {

namespace asio = boost::asio;

namespace {

// A new epoch per process: ids of an earlier run never resume in this one.
std::string random_epoch() {
  std::random_device rd;
  const std::uint64_t v = (std::uint64_t{rd()} << 32) ^ rd();
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string s;
  for (std::uint64_t x = v; s.size() < 10; x /= 36)
    s += kDigits[x % 36];
  return s;
}

// The controls the page offers on an egress, each a button (and its inputs) that calls the
// route. A route added for egresses (disable/enable, ...) adds its entry here and the page
// shows it without change.
constexpr std::string_view kActions =
    R"json([{"name":"ban","label":"Ban","path":"/api/ip/{id}/ban","fields":[)json"
    R"json({"name":"for","label":"Duration","placeholder":"10m, 2h (empty: until unbanned)"},)json"
    R"json({"name":"reason","label":"Reason","placeholder":"why (optional)"}]},)json"
    R"json({"name":"unban","label":"Unban","path":"/api/ip/{id}/unban","fields":[]},)json"
    R"json({"name":"reset","label":"Reset","path":"/api/ip/{id}/reset","fields":[]},)json"
    R"json({"name":"disable","label":"Disable","path":"/api/ip/{id}/disable","fields":[]},)json"
    R"json({"name":"enable","label":"Enable","path":"/api/ip/{id}/enable","fields":[]}])json";

}  // namespace

struct FeedPump {
  // Runs on the feed's strand while anyone is subscribed.
  static asio::awaitable<void> run(std::shared_ptr<EventFeed> feed) {
    auto next_tick = std::chrono::steady_clock::now();
    for (;;) {
      {
        std::lock_guard lock(feed->subscribers_mutex_);
        if (feed->stopped_ || feed->subscribers_.empty()) {
          feed->pump_running_ = false;
          co_return;
        }
      }
      const auto now = std::chrono::steady_clock::now();
      const bool tick = now >= next_tick;
      if (tick)
        next_tick = std::max(next_tick + feed->options_.tick, now);
      {
        std::lock_guard lock(feed->model_mutex_);
        feed->step(tick, false);
      }
      feed->wake_all();
      feed->timer_.expires_after(feed->options_.poll);
      co_await feed->timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
};

EventFeed::EventFeed(asio::io_context& io, Context& context, FeedOptions options,
                     std::function<void(std::string_view)> log)
    : context_(context),
      options_(options),
      log_(std::move(log)),
      strand_(asio::make_strand(io)),
      timer_(strand_),
      journal_(random_epoch(), options.journal) {}

EventFeed::Subscription::~Subscription() {
  if (auto feed = feed_.lock())
    feed->unsubscribe(id_);
}

std::unique_ptr<EventFeed::Subscription> EventFeed::subscribe(std::function<void()> wake) {
  bool start_pump = false;
  std::uint64_t id = 0;
  {
    std::lock_guard lock(subscribers_mutex_);
    id = next_id_++;
    subscribers_.emplace(id, std::move(wake));
    if (!pump_running_ && !stopped_) {
      pump_running_ = true;
      start_pump = true;
    }
  }
  if (start_pump) {
    asio::co_spawn(strand_, FeedPump::run(shared_from_this()), [log = log_](std::exception_ptr e) {
      if (!e)
        return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log(std::string("event feed failed: ") + ex.what());
      }
    });
  }
  return std::make_unique<Subscription>(weak_from_this(), id);
}

void EventFeed::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(subscribers_mutex_);
  subscribers_.erase(id);
}

std::size_t EventFeed::subscribers() const {
  std::lock_guard lock(subscribers_mutex_);
  return subscribers_.size();
}

void EventFeed::stop() {
  {
    std::lock_guard lock(subscribers_mutex_);
    if (stopped_)
      return;
    stopped_ = true;
  }
  asio::post(strand_, [self = shared_from_this()] { self->timer_.cancel(); });
  wake_all();
}

bool EventFeed::stopped() const {
  std::lock_guard lock(subscribers_mutex_);
  return stopped_;
}

void EventFeed::wake_all() {
  std::lock_guard lock(subscribers_mutex_);
  for (auto& [id, wake] : subscribers_)
    wake();
}

void EventFeed::refresh(bool tick) {
  {
    std::lock_guard lock(model_mutex_);
    step(tick, true);
  }
  wake_all();
}

void EventFeed::step(bool tick, bool force) {
  if (context_.engine == nullptr)
    return;
  const std::uint64_t after = model_.decision_seq();
  if (!tick && !force) {
    // Between ticks only decisions and selection changes are worth a look at every row.
    const auto [seq, version] = context_.engine->read([](const strategy::Engine& e) {
      return std::pair(e.last_decision_seq(), e.selection_version());
    });
    if (seq == after && version == seen_version_)
      return;
  }
  PageView view =
      context_.engine->read([&](const strategy::Engine& e) { return take_page_view(e, after); });
  seen_version_ = view.selection_version;
  if (context_.selector != nullptr)
    add_open(view, *context_.selector->snapshot());
  if (context_.traffic)
    view.traffic = context_.traffic();
  view.wall = context_.now();
  view.steady = std::chrono::steady_clock::now();
  tick = tick || !ticked_;  // a snapshot always carries pool numbers
  ticked_ = true;
  model_.update(view, tick, journal_);
}

std::string EventFeed::snapshot_header() const {
  const auto config = context_.config();
  std::string out = "\"epoch\":";
  append_json_string(out, journal_.epoch());
  out += ",\"token_required\":";
  out += config->api_token.empty() ? "false" : "true";
  out += ",\"tick_seconds\":";
  append_json_double(out, std::chrono::duration<double>(options_.tick).count());
  out += ",\"actions\":";
  out += kActions;
  return out;
}

EventFeed::Start EventFeed::start(std::string_view last_event_id) {
  Start s;
  append_sse_retry(s.text, options_.retry_ms);
  if (const auto cursor = journal_.resume(last_event_id)) {
    s.cursor = *cursor;
    s.resumed = true;
    return s;
  }
  {
    // Up to date first, so that the snapshot is the state as of the journal's head and the
    // events after it are exactly what changed since.
    std::lock_guard lock(model_mutex_);
    step(false, true);
    s.cursor = journal_.head();
    append_sse_event(s.text, journal_.id_of(s.cursor), "snapshot",
                     model_.snapshot(snapshot_header()));
  }
  wake_all();
  return s;
}

}  // namespace ipm::probe
