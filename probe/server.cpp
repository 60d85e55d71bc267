#include "probe/server.hpp"

#include <algorithm>
#include <atomic>
#include <iostream>
#include <mutex>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "probe/session.hpp"

namespace ipm::probe {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kFirstRetryWait{10};
constexpr std::chrono::milliseconds kMaxRetryWait{1000};

}  // namespace

ServerOptions options_from(const config::Config& config) {
  ServerOptions o;
  o.host = config.probe_host;
  o.port = config.probe_port;
  o.max_connections = config.probe_max_connections;
  o.max_event_streams = config.probe_max_event_streams;
  return o;
}

/// Shared by the server object and every coroutine it spawns, so a session that outlives
/// stop() still finds its registry.
struct Server::State {
  State(asio::io_context& io_context, Context& ctx, ServerOptions opts)
      : io(io_context),
        context(ctx),
        options(std::move(opts)),
        acceptor(asio::make_strand(io_context)) {
    if (!options.log)
      options.log = [](std::string_view line) { std::cerr << "probe: " << line << '\n'; };
    feed = std::make_shared<EventFeed>(io_context, context, options.feed, options.log);
  }

  asio::io_context& io;
  Context& context;
  ServerOptions options;
  tcp::acceptor acceptor;
  std::shared_ptr<EventFeed> feed;

  struct Session {
    std::weak_ptr<beast::tcp_stream> stream;
    bool event_stream = false;  // counted under max_event_streams, not max_connections
  };
  std::mutex mutex;  // guards sessions, event_streams and stopped
  std::unordered_map<std::uint64_t, Session> sessions;
  std::size_t event_streams = 0;
  std::uint64_t next_id = 0;
  bool stopped = false;
  std::atomic<std::size_t> refusing{0};

  // Moves session `id` from the request cap to the event-stream cap.
  bool begin_event_stream(std::uint64_t id) {
    std::lock_guard lock(mutex);
    const auto it = sessions.find(id);
    if (it == sessions.end() || event_streams >= options.max_event_streams)
      return false;
    it->second.event_stream = true;
    ++event_streams;
    return true;
  }

  // Logs what escaped a coroutine; network errors never do, so this is a bug report.
  auto on_exit(std::string what) {
    return [log = options.log, what = std::move(what)](std::exception_ptr e) {
      if (!e)
        return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        log(what + " failed: " + ex.what());
      }
    };
  }
};

namespace {

asio::awaitable<void> run_session(std::shared_ptr<Server::State> state,
                                  std::shared_ptr<beast::tcp_stream> stream, std::uint64_t id) {
  struct Unregister {
    Server::State& s;
    std::uint64_t id;
    ~Unregister() {
      std::lock_guard lock(s.mutex);
      const auto it = s.sessions.find(id);
      if (it == s.sessions.end())
        return;
      if (it->second.event_stream)
        --s.event_streams;
      s.sessions.erase(it);
    }
  } unregister{*state, id};
  EventStreamAccess events{state->feed.get(),
                           [state = state.get(), id] { return state->begin_event_stream(id); }};
  co_await serve_connection(std::move(stream), state->context, state->options, std::move(events));
}

asio::awaitable<void> refuse(std::shared_ptr<Server::State> state, tcp::socket socket) {
  struct Release {
    Server::State& s;
    ~Release() { --s.refusing; }
  } release{*state};
  co_await refuse_connection(beast::tcp_stream(std::move(socket)));
}

asio::awaitable<void> accept_loop(std::shared_ptr<Server::State> state) {
  // Out of descriptors and the like, accept(2) fails again at once while the client waits in
  // the backlog: the loop waits, doubling up to kMaxRetryWait, and says so once per episode.
  std::uint64_t failures = 0;
  std::chrono::milliseconds retry_wait = kFirstRetryWait;
  asio::steady_timer pause(co_await asio::this_coro::executor);
  for (;;) {
    auto [ec, socket] = co_await state->acceptor.async_accept(asio::make_strand(state->io), kTuple);
    if (ec == asio::error::operation_aborted || !state->acceptor.is_open())
      co_return;
    if (ec) {
      if (failures++ == 0)
        state->options.log("accept failed: " + ec.message() + "; retrying at least every " +
                           std::to_string(kMaxRetryWait.count()) + " ms");
      pause.expires_after(retry_wait);
      co_await pause.async_wait(kTuple);
      retry_wait = std::min(retry_wait * 2, kMaxRetryWait);
      continue;
    }
    if (failures > 0) {
      state->options.log("accepting again after " + std::to_string(failures) + " failed accepts");
      failures = 0;
      retry_wait = kFirstRetryWait;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);

    std::shared_ptr<beast::tcp_stream> stream;
    std::uint64_t id = 0;
    {
      std::lock_guard lock(state->mutex);
      if (state->stopped)
        co_return;
      if (state->sessions.size() - state->event_streams < state->options.max_connections) {
        stream = std::make_shared<beast::tcp_stream>(std::move(socket));
        id = state->next_id++;
        state->sessions.emplace(id, Server::State::Session{stream});
      }
    }
    if (stream) {
      auto executor = stream->get_executor();
      asio::co_spawn(executor, run_session(state, std::move(stream), id),
                     state->on_exit("probe session"));
    } else if (state->refusing.fetch_add(1) < state->options.max_connections) {
      auto executor = socket.get_executor();
      asio::co_spawn(executor, refuse(state, std::move(socket)), state->on_exit("probe refusal"));
    } else {
      --state->refusing;  // a flood: not even a 503, just the close
      socket.close(ignored);
    }
  }
}

}  // namespace

Server::Server(asio::io_context& io, Context& context, ServerOptions options)
    : state_(std::make_shared<State>(io, context, std::move(options))) {
  const tcp::endpoint endpoint(asio::ip::make_address(state_->options.host), state_->options.port);
  tcp::acceptor& a = state_->acceptor;
  a.open(endpoint.protocol());
  a.set_option(asio::socket_base::reuse_address(true));
  a.bind(endpoint);
}

Server::~Server() {
  stop();
}

void Server::start() {
  state_->acceptor.listen(asio::socket_base::max_listen_connections);
  asio::co_spawn(state_->acceptor.get_executor(), accept_loop(state_),
                 state_->on_exit("probe accept loop"));
}

void Server::stop() {
  std::vector<std::shared_ptr<beast::tcp_stream>> open;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->stopped)
      return;
    state_->stopped = true;
    for (auto& [id, session] : state_->sessions) {
      if (auto s = session.stream.lock())
        open.push_back(std::move(s));
    }
  }
  state_->feed->stop();  // event streams wait on the feed, not on their socket
  // Each socket is closed on its own strand; the sessions then see operation_aborted.
  asio::post(state_->acceptor.get_executor(), [state = state_] {
    error_code ignored;
    state->acceptor.close(ignored);
  });
  for (auto& s : open) {
    asio::post(s->get_executor(), [s] {
      error_code ignored;
      s->socket().close(ignored);
    });
  }
}

tcp::endpoint Server::local_endpoint() const {
  return state_->acceptor.local_endpoint();
}

std::size_t Server::active_connections() const {
  std::lock_guard lock(state_->mutex);
  return state_->sessions.size() - state_->event_streams;
}

std::size_t Server::event_streams() const {
  std::lock_guard lock(state_->mutex);
  return state_->event_streams;
}

}  // namespace ipm::probe
