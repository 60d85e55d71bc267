#include "probe/event_stream.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>

namespace ipm::probe {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// Events are sent in writes of about this much: a client far behind catches up in pieces, so
// what a session holds at once stays small.
constexpr std::size_t kWriteBytes = 64 * 1024;

asio::awaitable<bool> send(beast::tcp_stream& stream, const std::string& text, bool chunked,
                           const ServerOptions& options) {
  stream.expires_after(options.write_timeout);
  auto [ec, n] = chunked ? co_await asio::async_write(
                               stream, beast::http::make_chunk(asio::buffer(text)), kTuple)
                         : co_await asio::async_write(stream, asio::buffer(text), kTuple);
  co_return !ec;
}

}  // namespace

asio::awaitable<void> stream_events(beast::tcp_stream& stream, EventFeed& feed,
                                    std::string last_event_id, bool chunked,
                                    const ServerOptions& options) {
  const auto executor = co_await asio::this_coro::executor;
  // The wake-up: the feed posts a cancel to this strand after appending events. A cancel
  // that arrives while a write is under way finds no wait and is lost, which is fine: the
  // loop reads the journal again before it waits.
  auto wake = std::make_shared<asio::steady_timer>(executor);
  const auto subscription =
      feed.subscribe([wake, executor] { asio::post(executor, [wake] { wake->cancel(); }); });

  const EventFeed::Start start = feed.start(last_event_id);
  if (!co_await send(stream, start.text, chunked, options))
    co_return;
  std::uint64_t cursor = start.cursor;
  while (!feed.stopped()) {
    const EventJournal::Read next = feed.read(cursor, kWriteBytes);
    if (next.status != EventJournal::ReadStatus::ok) {
      options.log(next.status == EventJournal::ReadStatus::too_slow
                      ? "event stream: client too slow, dropped"
                      : "event stream: client fell behind the journal, dropped");
      co_return;
    }
    if (next.text.empty()) {
      wake->expires_at(asio::steady_timer::time_point::max());
      co_await wake->async_wait(kTuple);
      continue;
    }
    if (!co_await send(stream, next.text, chunked, options))
      co_return;
    cursor = next.next;
  }
  // A clean end: the client reconnects (to the restarted process, or later).
  if (chunked) {
    stream.expires_after(std::chrono::seconds(1));
    co_await asio::async_write(stream, beast::http::make_chunk_last(), kTuple);
  }
}

}  // namespace ipm::probe
