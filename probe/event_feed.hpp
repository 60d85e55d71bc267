#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "probe/context.hpp"
#include "probe/event_journal.hpp"
#include "probe/page_model.hpp"
#include "probe/server_options.hpp"

namespace ipm::probe {

/// The source of GET /api/events: a PageModel kept up to date from the strategy engine by a
/// timer on the probe's io_context, and the EventJournal every streaming session reads.
/// The timer runs only while someone is subscribed: with no page open the feed costs nothing.
///
/// Thread-safe. Created with make_shared (the timer's coroutine keeps it alive); `context`
/// must outlive it. stop() wakes every subscriber, which then sees stopped() and ends.
class EventFeed : public std::enable_shared_from_this<EventFeed> {
 public:
  /// `log` reports a bug that escaped the timer's coroutine.
  EventFeed(boost::asio::io_context& io, Context& context, FeedOptions options,
            std::function<void(std::string_view)> log);
  EventFeed(const EventFeed&) = delete;
  EventFeed& operator=(const EventFeed&) = delete;

  /// What a client starting now is sent first, and the cursor it continues from. A client
  /// whose Last-Event-ID is still in the journal resumes after it (`text` is then only the
  /// retry line); any other gets a snapshot event of the whole pool.
  struct Start {
    std::string text;
    std::uint64_t cursor = 0;
    bool resumed = false;
  };
  Start start(std::string_view last_event_id);

  /// See EventJournal::read.
  EventJournal::Read read(std::uint64_t cursor, std::size_t max_bytes) const {
    return journal_.read(cursor, max_bytes);
  }

  /// Ends its subscription when destroyed.
  class Subscription {
   public:
    Subscription(std::weak_ptr<EventFeed> feed, std::uint64_t id)
        : feed_(std::move(feed)), id_(id) {}
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;
    ~Subscription();

   private:
    std::weak_ptr<EventFeed> feed_;
    std::uint64_t id_;
  };

  /// `wake` is called (on the feed's thread: post from it, never block) after events were
  /// appended, and at stop(). Starts the timer if it was idle.
  [[nodiscard]] std::unique_ptr<Subscription> subscribe(std::function<void()> wake);

  /// Wakes every subscriber and stops the timer. Idempotent.
  void stop();
  bool stopped() const;

  /// Subscribers now.
  std::size_t subscribers() const;

  /// Brings the model up to date now (what the timer does), sending a tick when `tick`.
  void refresh(bool tick);

 private:
  void unsubscribe(std::uint64_t id);
  void step(bool tick, bool force);  // with model_mutex_ held
  void wake_all();
  std::string snapshot_header() const;

  Context& context_;
  const FeedOptions options_;
  const std::function<void(std::string_view)> log_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::steady_timer timer_;  // used on strand_ only
  EventJournal journal_;

  std::mutex model_mutex_;  // guards model_ and what follows; taken before the engine's lock
  PageModel model_;
  std::uint64_t seen_version_ = 0;
  bool ticked_ = false;

  mutable std::mutex subscribers_mutex_;  // never held while taking model_mutex_
  std::unordered_map<std::uint64_t, std::function<void()>> subscribers_;
  std::uint64_t next_id_ = 0;
  bool pump_running_ = false;
  bool stopped_ = false;

  friend class Subscription;
  friend struct FeedPump;
};

}  // namespace ipm::probe
