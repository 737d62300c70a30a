// hotstate/detail/async/io/connection.hpp: one multiplexed Redis connection on Asio.
//
// Many callers, one socket. A request (a command value from
// detail/redis/proto/commands.hpp) is handed to the connection's strand; the writer
// encodes every request queued since its last write into one reused buffer
// and sends them in one write (automatic pipelining: while a write is in
// flight, new requests collect and go out together next). Replies are parsed by
// hiredis's redisReader and matched to the written requests in order.
//
// The rules, each in one place here:
//   - Bounded queue: at most `max_pending` requests queued or awaiting their
//     reply; one more fails at once with errc::timeout ("queue full"), never
//     written, so its outcome is known (the caller may retry later). A clear
//     error rather than a wait: a server that falls behind must not grow an
//     unbounded queue in a mail server's memory.
//   - Per-operation timeouts: every request has a deadline (`timeout` from its
//     submission). A tick (a tenth of the timeout, 1-100 ms) fails queued
//     requests past their deadline with errc::timeout (never written: outcome
//     known); when the oldest written request is past its deadline the server is
//     stuck (SIGSTOP, a long script), so the connection is dropped as below.
//   - Health check: when nothing was read for `health_interval` and nothing is
//     pending, a PING is queued like any request; a server that does not answer
//     it trips the deadline above.
//   - Reconnect with capped backoff (min_backoff doubling to max_backoff), AUTH
//     and SELECT replayed, without user action; requests wait in the queue
//     meanwhile (until their deadline).
//   - Refusals: when the server answers but refuses us (TLS verification,
//     a missing client certificate, AUTH), the requests queued then fail at
//     once with that error (never written: outcome known) instead of waiting
//     out their deadline; reconnect attempts go on with the backoff.
//   - TLS (rediss://): Asio's ssl::stream over the socket, on the engine's
//     loaded settings (detail/redis/io/tls_stream.hpp's tls_context: the same
//     OpenSSL context, CA, client certificate), with SNI and name
//     verification set as the engine's tls_stream sets them.
//   - At most once: when the connection drops, each written request without
//     its reply asks its exchange (detail/redis/proto/exchange.hpp): sent again
//     after the reconnect when idempotent in effect and within its budget and
//     deadline; otherwise it fails with errc::connection (or errc::timeout)
//     and outcome_unknown().
//
// Threads: every state change runs on the connection's strand, so the
// io_context may be run by any number of threads. Callers' completion
// handlers are dispatched on their associated executor: a coroutine on the
// io_context resumes inline on the thread that read its reply (no trip through
// the scheduler), and the requests it issues then are queued while the read
// loop hands out the rest of its batch and written together after it. A
// submission from a thread running the io_context while the strand is idle
// runs inline too (dispatch), so one caller at a time writes without a hop.
// State is never touched across a handler call: each deque is taken out or
// popped before the handler runs, since it may submit again.
//
// Boost: written against Boost.Asio 1.74 (Debian 12): coroutines
// (asio::awaitable, co_spawn) drive the reader, writer and maintenance loops;
// timeouts close the socket (which cancels its pending operation) rather than
// using per-operation cancellation slots, which Boost 1.77 added. On Boost >=
// 1.77 the behaviour is the same (HOTSTATE_ASIO_HAS_CANCELLATION_SLOTS says
// whether the newer facility exists; nothing depends on it yet).
#pragma once

#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <boost/asio/detail/config.hpp>
#if !defined(BOOST_ASIO_HAS_CO_AWAIT)
#error "hotstate's asynchronous front end needs Boost.Asio's C++20 coroutines (asio::awaitable), which this Boost does not enable for this compiler and standard library: use g++ >= 10 with -std=c++20 (Boost 1.74 does not enable them for clang++ with libstdc++)"
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/version.hpp>

#include <hiredis/hiredis.h>

#include <hotstate/detail/base/backoff.hpp>
#include <hotstate/detail/redis/proto/commands.hpp>
#include <hotstate/detail/redis/proto/exchange.hpp>
#include <hotstate/detail/redis/io/tls_stream.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/async_options.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/connection.hpp>

#if BOOST_VERSION >= 107700
#define HOTSTATE_ASIO_HAS_CANCELLATION_SLOTS 1
#else
#define HOTSTATE_ASIO_HAS_CANCELLATION_SLOTS 0
#endif

namespace hotstate::detail::async {

namespace asio = boost::asio;
namespace proto = ::hotstate::detail::redis::proto;
using namespace std::chrono_literals;

/// Appends one command's RESP bytes (log-in commands built here, not by callers).
template <class... Views>
void append_command(std::string& out, const Views&... views) {
    redis::commands::pass_args(
        [&](std::size_t argc, const char* const* argv, const std::size_t* lengths) {
            redis::commands::append_request(out, argc, argv, lengths);
        },
        std::string_view(views)...);
}

/// What a reply did to the request it belongs to (pending::on_reply).
enum class reply_effect : std::uint8_t {
    more,   ///< not the last reply of the request's round: keep reading for it
    done,   ///< the request is over (completed, or handed to its route to go elsewhere)
    again,  ///< its fallback is due: queue it to be written again (the same connection: nothing ran)
};

/// One request from submission to completion: an exchange
/// (detail/redis/proto/exchange.hpp) driven by this connection. Derived by the
/// operation that owns the command's arguments, its exchange and the caller's
/// handler; the connection only counts the replies of each written round.
struct pending {
    std::size_t replies_left = 1;  ///< replies of the written round still to come (set by write_request)
    std::chrono::steady_clock::time_point deadline{};
    virtual ~pending() = default;
    /// Appends this round's requests (in the forms the exchange says) to the
    /// connection's output buffer (on the strand, when written: no request
    /// buffer per operation) and sets `replies_left`.
    virtual void write_request(std::string& out) = 0;
    /// The next reply of the written round (on the strand); `last`: the round's
    /// last one. Only a last reply may complete the caller (its handler may run
    /// inline), so the connection pops the request before handing it over.
    virtual reply_effect on_reply(::hotstate::redis::reply reply, std::string_view address, bool last) = 0;
    /// The connection broke (or timed out) with this request written: true
    /// when it goes again on this connection once reconnected; otherwise it
    /// completed (with the exchange's error) or its route took it elsewhere.
    virtual bool on_lost(const error& why, std::chrono::steady_clock::time_point now) = 0;
    /// The request failed before any byte of it left (closed, queue full, a
    /// refused log-in, a node down): completes the caller with `e`, or its
    /// route sends it elsewhere.
    virtual void on_error(std::exception_ptr e) = 0;
};

/// The shared state of one multiplexed connection; owned by shared_ptr so the
/// loops keep it alive until they end.
class connection : public std::enable_shared_from_this<connection> {
public:
    using strand_type = asio::strand<asio::any_io_executor>;

    connection(asio::any_io_executor executor, ::hotstate::redis::endpoint where,
               ::hotstate::redis::async_options settings)
        : strand_(asio::make_strand(executor)), endpoint_(std::move(where)), address_(endpoint_.address()),
          settings_(settings), socket_(strand_), tick_(strand_), backoff_(strand_) {
        if (endpoint_.tls.enabled) {
            if (endpoint_.type == ::hotstate::redis::endpoint::kind::unix_socket)
                throw error(errc::configuration, this->where() + "TLS is for tcp endpoints, not a Unix socket");
            // the engine's loaded settings (errc::configuration naming a bad file, here, at once)
            tls_settings_.emplace(endpoint_.tls);
            SSL_CTX_up_ref(tls_settings_->native());  // Asio's context frees its reference, the engine's stays
            ssl_context_ = std::make_unique<asio::ssl::context>(tls_settings_->native());
            server_name_ = endpoint_.tls.server_name.empty() ? endpoint_.host : endpoint_.tls.server_name;
            name_is_ip_ = redis::tls::is_ip_literal(server_name_);
        }
    }
    connection(const connection&) = delete;
    connection& operator=(const connection&) = delete;
    ~connection() { fail_all_now(); }

    /// Starts the connect / read / write / maintenance loops on the strand.
    void start() {
        asio::co_spawn(strand_, [self = shared_from_this()] { return self->run(); }, asio::detached);
        asio::co_spawn(strand_, [self = shared_from_this()] { return self->maintain(); }, asio::detached);
    }

    /// Stops the loops and fails every request still waiting with errc::connection.
    void close() {
        asio::post(strand_, [self = shared_from_this()] {
            self->closed_ = true;
            boost::system::error_code ignored;
            self->lowest().close(ignored);
            self->tick_.cancel();
            self->backoff_.cancel();  // a reconnect waiting out its backoff ends now
            self->fail_all_now();
        });
    }

    /// Hands `p` (request, idempotent set; owned by the connection until it
    /// completes) to the strand. Thread-safe.
    void submit(pending* p) {
        p->deadline = std::chrono::steady_clock::now() + settings_.timeout;
        // Already on the strand (a caller resumed by a reply): queue at once; the
        // read loop writes everything queued when it has handed out its batch.
        if (strand_.running_in_this_thread()) return enqueue(p);
        // Otherwise dispatch: a thread running the io_context while the strand is
        // idle runs enqueue (and the write) inline, without a hop through the queue.
        // The handler owns `p` until enqueue takes it: an io_context stopped and
        // destroyed before running it frees the request (its caller is abandoned, as
        // Asio abandons any handler then) instead of leaking it.
        asio::dispatch(strand_, [self = shared_from_this(), owned = std::unique_ptr<pending>(p)]() mutable {
            self->enqueue(owned.release());
        });
    }

    /// While the server cannot be reached (the last connect attempt failed),
    /// fail the requests queued then, and those submitted until an attempt
    /// succeeds, at once (never written: outcome known) instead of letting them
    /// wait for the next attempt or their deadline: a cluster client sends them
    /// to the node that took over instead. Call before start().
    void fail_queued_while_down() noexcept { fail_queued_while_down_ = true; }

    /// Log in with READONLY too (a cluster replica then serves reads of its
    /// master's slots; harmless on a master). Call before start().
    void readonly_on_login() noexcept { readonly_ = true; }

    /// "host:port" or the socket path.
    [[nodiscard]] const std::string& address() const noexcept { return address_; }
    /// The executor the connection's handlers run on.
    [[nodiscard]] const strand_type& strand() const noexcept { return strand_; }
    /// Connections opened so far (1 after the first; tests watch reconnects).
    [[nodiscard]] std::uint64_t connects() const noexcept { return connects_.load(std::memory_order_relaxed); }

private:
    using socket_type = asio::generic::stream_protocol::socket;

    /// Asio's TLS stream over the socket. The engine's client-certificate
    /// callback notes a server's request in the session's app data; Asio
    /// deletes app data as its own verify callback, so it is cleared first.
    struct tls_socket : asio::ssl::stream<socket_type> {
        using asio::ssl::stream<socket_type>::stream;
        tls_socket(const tls_socket&) = delete;
        tls_socket& operator=(const tls_socket&) = delete;
        ~tls_socket() { SSL_set_app_data(native_handle(), nullptr); }
    };
    /// The TCP (or Unix) socket under TLS, if any.
    socket_type& lowest() noexcept { return tls_ ? tls_->next_layer() : socket_; }
    /// Reads some bytes, through TLS when on.
    template <class Token>
    auto read_some(Token&& token) {
        if (tls_) return tls_->async_read_some(asio::buffer(read_buffer_), std::forward<Token>(token));
        return socket_.async_read_some(asio::buffer(read_buffer_), std::forward<Token>(token));
    }
    using clock = std::chrono::steady_clock;

    /// "async redis ADDRESS: ", the start of the connection's messages; the
    /// operation that fails adds "hotstate: <operation> on category '<name>': ".
    [[nodiscard]] std::string where() const { return "async redis " + address_ + ": "; }

    void enqueue(pending* p) {
        if (closed_) return fail(p, error(errc::connection, where() + "the connection is closed"));
        // the last connect attempt failed and the owner routes elsewhere: no wait for the next one
        if (fail_queued_while_down_ && down_ && last_error_) return fail(p, *last_error_);
        if (queued_.size() + inflight_.size() >= settings_.max_pending)
            return fail(p, error(errc::timeout, where() + "queue full (" + std::to_string(settings_.max_pending) +
                                                    " requests pending); not sent"));
        queued_.push_back(p);
        flush();
    }

    /// Completes `p` with `e`. Its handler may run inline; one that throws
    /// leaves io_context::run() from a handler of its own, as a posted one would.
    void fail(pending* p, const error& e) {
        try {
            p->on_error(std::make_exception_ptr(e));
        } catch (...) {
            asio::post(strand_, [thrown = std::current_exception()] { std::rethrow_exception(thrown); });
        }
    }

    void fail_all_now() {
        const error e(errc::connection, where() + "the connection is closed");
        // taken out first: a handler run inline may submit (and fail) again meanwhile
        std::deque<pending*> written = std::move(inflight_), waiting = std::move(queued_);
        inflight_.clear();
        queued_.clear();
        // written ones may have run: their exchange says so; past every deadline, nothing goes again
        const auto too_late = std::chrono::steady_clock::time_point::max();
        for (pending* p : written) (void)lost_one(p, e, too_late);
        for (pending* p : waiting) fail(p, e);
    }

    // --- connecting -------------------------------------------------------

    /// Closes the socket when `timer` fires: how a connect or log-in step is bounded on Boost 1.74.
    void arm(asio::steady_timer& timer) {
        timer.expires_after(settings_.timeout);
        timer.async_wait([this, self = shared_from_this()](boost::system::error_code ec) {
            if (ec) return;
            boost::system::error_code ignored;
            lowest().close(ignored);
        });
    }

    asio::awaitable<void> open() {
        boost::system::error_code ec;
        auto token = asio::redirect_error(asio::use_awaitable, ec);
        asio::steady_timer guard(strand_);
        tls_.reset();
        socket_ = socket_type(strand_);
        arm(guard);
        if (endpoint_.type == ::hotstate::redis::endpoint::kind::unix_socket) {
            asio::local::stream_protocol::endpoint at(endpoint_.path);
            socket_.open(asio::generic::stream_protocol(AF_UNIX, 0), ec);
            if (!ec) co_await socket_.async_connect(asio::generic::stream_protocol::endpoint(at), token);
        } else {
            asio::ip::tcp::resolver resolver(strand_);
            auto found = co_await resolver.async_resolve(endpoint_.host, std::to_string(endpoint_.port), token);
            if (!ec) {
                ec = asio::error::host_not_found;
                for (const auto& entry : found) {
                    boost::system::error_code attempt;
                    const auto tcp = entry.endpoint();
                    socket_ = socket_type(strand_);
                    socket_.open(asio::generic::stream_protocol(tcp.protocol().family(), IPPROTO_TCP), attempt);
                    if (attempt) continue;
                    co_await socket_.async_connect(asio::generic::stream_protocol::endpoint(tcp), 
                                                   asio::redirect_error(asio::use_awaitable, attempt));
                    ec = attempt;
                    if (!attempt) break;
                }
                if (!ec) {
                    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
                    if (!ec) socket_.set_option(asio::socket_base::keep_alive(true), ec);
                }
            }
        }
        if (ec) {
            guard.cancel();
            throw error(errc::connection, where() + "connect: " + ec.message());
        }
        if (!ssl_context_) socket_.non_blocking(true, ec);  // flush() writes at once when the kernel takes it all
        if (ec) {
            guard.cancel();
            throw error(errc::connection, where() + "connect: " + ec.message());
        }
        if (ssl_context_) {
            tls_.emplace(std::move(socket_), *ssl_context_);
            prepare_session(tls_->native_handle());
            co_await tls_->async_handshake(asio::ssl::stream_base::client, token);
            if (ec) {
                const bool timed_out = guard.expiry() <= clock::now();
                guard.cancel();
                // a plain-text server reads the hello as a command and waits for more
                if (timed_out)
                    throw refused{error(errc::timeout, where() + "TLS handshake: no answer within " +
                                                           std::to_string(settings_.timeout.count()) + " ms (" +
                                                           std::string(redis::tls::plain_port_hint) + ")")};
                throw refused{tls_failure(ec, "TLS handshake")};
            }
        }
        // log in: AUTH and SELECT (when configured), READONLY (a cluster replica's reads), then PING, in one write
        std::string hello;
        std::size_t replies = 0;
        if (endpoint_.password) {
            if (endpoint_.username)
                append_command(hello, "AUTH", *endpoint_.username, *endpoint_.password);
            else
                append_command(hello, "AUTH", *endpoint_.password);
            ++replies;
        }
        if (endpoint_.db != 0) {
            append_command(hello, "SELECT", std::to_string(endpoint_.db));
            ++replies;
        }
        if (readonly_) {
            append_command(hello, "READONLY");
            ++replies;
        }
        append_command(hello, "PING");
        ++replies;
        if (tls_)
            co_await asio::async_write(*tls_, asio::buffer(hello), token);
        else
            co_await asio::async_write(socket_, asio::buffer(hello), token);
        if (ec) {
            guard.cancel();
            if (tls_ && ec.category() == asio::error::get_ssl_category()) throw refused{tls_failure(ec, "log-in write")};
            throw error(errc::connection, where() + "log-in write: " + ec.message());
        }
        reader_.emplace();
        for (std::size_t i = 0; i < replies; ++i) {
            auto reply = co_await next_reply(ec);
            if (!reply) {
                guard.cancel();
                // TLS 1.3: a refused client certificate arrives after the handshake, on this first read
                if (tls_ && ec.category() == asio::error::get_ssl_category()) throw refused{tls_failure(ec, "log-in")};
                // a TLS-only port resets a plain client at its first bytes: waiting will not help
                if (!tls_ && (ec == asio::error::connection_reset || ec == asio::error::eof))
                    throw refused{error(errc::connection, where() + "log-in: " + ec.message() +
                                                              " before the server's first reply (" +
                                                              std::string(redis::tls::tls_port_hint) + ")")};
                throw error(errc::connection, where() + "log-in: " + (ec ? ec.message() : "protocol error"));
            }
            const ::hotstate::redis::reply_view view = reply.view();
            if (view.is_error()) {
                guard.cancel();
                const std::string_view text = view.text();
                const bool auth = text.starts_with("WRONGPASS") || text.starts_with("NOAUTH") ||
                                  text.find("invalid password") != std::string_view::npos ||
                                  text.find("AUTH") != std::string_view::npos;
                throw refused{error(auth ? errc::authentication : errc::connection,
                                    where() + "log-in refused: " + std::string(text.substr(0, 120)))};
            }
        }
        guard.cancel();
    }

    /// Reads until the redisReader has one reply; null on a read error (ec set) or a protocol error.
    asio::awaitable<::hotstate::redis::reply> next_reply(boost::system::error_code& ec) {
        for (;;) {
            ::hotstate::redis::reply next;
            if (!reader_->next(next)) co_return ::hotstate::redis::reply();
            if (next) co_return next;
            const std::size_t got = co_await read_some(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return ::hotstate::redis::reply();
            if (!reader_->feed(read_buffer_.data(), got)) co_return ::hotstate::redis::reply();
        }
    }

    // --- the session --------------------------------------------------------

    asio::awaitable<void> run() {
        // min_backoff doubling to max_backoff (never below min_backoff), from the first failure in a row
        const backoff_policy backoff{settings_.min_backoff, std::max(settings_.max_backoff, settings_.min_backoff)};
        std::uint32_t failures = 0;
        asio::steady_timer& wait = backoff_;
        while (!closed_) {
            std::optional<error> failed;
            bool was_refused = false;
            try {
                co_await open();
            } catch (const refused& e) {
                failed = e.why;
                was_refused = true;
            } catch (const error& e) {
                failed = e;
            }
            if (closed_) break;
            if (failed) {
                last_error_ = failed;
                down_ = true;
                // The server answered and refused us (certificate, name, password): waiting
                // will not help the requests queued now; they fail at once (never sent), with
                // the cause. Later attempts go on in the background. So does every attempt's
                // failure when the owner routes elsewhere (fail_queued_while_down).
                if (was_refused || fail_queued_while_down_) {
                    std::deque<pending*> waiting = std::move(queued_);
                    queued_.clear();
                    for (pending* p : waiting) fail(p, *failed);
                }
                wait.expires_after(backoff.delay(failures));
                boost::system::error_code ignored;
                co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
                if (failures < UINT32_MAX) ++failures;
                continue;
            }
            failures = 0;
            last_error_.reset();
            down_ = false;
            connects_.fetch_add(1, std::memory_order_relaxed);
            connected_ = true;
            last_read_ = clock::now();
            flush();  // what queued up while connecting
            const std::string why = co_await read_loop();
            connected_ = false;
            boost::system::error_code ignored;
            lowest().close(ignored);
            while (writing_) {  // the write in flight ends (aborted) at its next step; wait for it before reusing the socket
                wait.expires_after(1ms);
                co_await wait.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
            }
            lost(why, stuck_);
            stuck_ = false;
        }
        fail_all_now();
    }

    /// Writes every queued request in one write, unless a write is in flight
    /// (its completion writes what queued meanwhile: automatic pipelining) or
    /// the read loop is handing out replies (it flushes when done, so the
    /// requests of the callers it resumed go out together). On the strand.
    void flush() {
        if (writing_ || handing_out_ || !connected_ || queued_.empty()) return;
        if (out_.capacity() > (std::size_t{1} << 20)) std::string().swap(out_);  // a big value's buffer is not kept
        out_.clear();
        for (pending* p : queued_) p->write_request(out_);
        // written from here on: the server may run them even if the write fails midway
        inflight_.insert(inflight_.end(), queued_.begin(), queued_.end());
        queued_.clear();
        std::size_t sent = 0;
        if (!tls_) {
            // Plain socket (non-blocking): write at once. The usual batch fits the
            // socket buffer, and then no write is in flight and no completion is
            // posted: one system call and no hop. What does not fit goes below.
            boost::system::error_code ec;
            sent = socket_.write_some(asio::buffer(out_), ec);
            if (!ec && sent == out_.size()) return;
            if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
                boost::system::error_code ignored;
                socket_.close(ignored);  // the read loop ends and reconnects
                return;
            }
            if (ec) sent = 0;
        }
        writing_ = true;
        auto done = asio::bind_executor(strand_, [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
            self->writing_ = false;
            if (ec) {
                boost::system::error_code ignored;
                self->lowest().close(ignored);  // the read loop ends and reconnects
                return;
            }
            self->flush();
        });
        if (tls_)
            asio::async_write(*tls_, asio::buffer(out_), std::move(done));
        else
            asio::async_write(socket_, asio::buffer(out_) + sent, std::move(done));
    }

    /// Reads replies and completes requests in order; returns why it stopped.
    asio::awaitable<std::string> read_loop() {
        boost::system::error_code ec;
        for (;;) {
            const std::size_t got = co_await read_some(asio::redirect_error(asio::use_awaitable, ec));
            if (ec) co_return ec == asio::error::eof ? std::string("the server closed the connection") : ec.message();
            last_read_ = clock::now();
            if (!reader_->feed(read_buffer_.data(), got)) co_return "protocol error";
            // callers resumed below queue their next requests; one flush after the batch writes them together
            handing_out_ = true;
            for (;;) {
                ::hotstate::redis::reply reply;
                if (!reader_->next(reply)) {
                    handing_out_ = false;
                    co_return "protocol error";
                }
                if (!reply) break;
                if (inflight_.empty()) {
                    handing_out_ = false;
                    co_return "a reply nobody asked for";
                }
                pending* p = inflight_.front();
                const bool last = --p->replies_left == 0;
                if (last) inflight_.pop_front();  // before a handler may run inline and submit
                reply_effect effect = reply_effect::done;
                try {
                    effect = p->on_reply(std::move(reply), address_, last);
                } catch (...) {
                    // a caller's handler threw (it ran inline): it leaves io_context::run() as it
                    // would from a posted handler, and the connection carries on
                    asio::post(strand_, [e = std::current_exception()] { std::rethrow_exception(e); });
                }
                if (effect == reply_effect::again) queued_.push_back(p);  // its fallback request
            }
            handing_out_ = false;
            flush();
        }
    }

    /// The connection dropped: each written request's exchange says whether it
    /// goes again (requeued first, for the next connection) or completes.
    void lost(const std::string& why, bool timed_out) {
        const auto now = clock::now();
        const error e(timed_out ? errc::timeout : errc::connection,
                      where() + (timed_out ? "no reply in time (" : "connection lost (") + why + ")");
        std::deque<pending*> again, written = std::move(inflight_);
        inflight_.clear();
        for (pending* p : written)
            if (lost_one(p, e, now)) again.push_back(p);
        queued_.insert(queued_.begin(), again.begin(), again.end());
    }

    /// Hands `why` to written request `p`; true when it goes again here.
    bool lost_one(pending* p, const error& why, clock::time_point now) {
        try {
            return p->on_lost(why, now);
        } catch (...) {
            asio::post(strand_, [thrown = std::current_exception()] { std::rethrow_exception(thrown); });
            return false;
        }
    }

    // --- timeouts and health checks -----------------------------------------

    asio::awaitable<void> maintain() {
        const auto step = std::clamp<std::chrono::milliseconds>(settings_.timeout / 10, 1ms, 100ms);
        boost::system::error_code ec;
        while (!closed_) {
            tick_.expires_after(step);
            co_await tick_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            if (closed_) break;
            const auto now = clock::now();
            // never written: past the deadline, they fail with a known outcome
            while (!queued_.empty() && queued_.front()->deadline <= now) {
                pending* p = queued_.front();
                queued_.pop_front();
                std::string text = where() + "no reply in time (";
                text += connected_ ? "queued" : (last_error_ ? last_error_->message() : std::string("not connected"));
                fail(p, error(errc::timeout, text + "); not sent"));
            }
            if (connected_ && !inflight_.empty() && inflight_.front()->deadline <= now) {
                stuck_ = true;  // the read loop ends, lost() fails or re-queues what was written
                boost::system::error_code ignored;
                lowest().close(ignored);
            } else if (connected_ && settings_.health_interval.count() > 0 && inflight_.empty() && queued_.empty() &&
                       now - last_read_ >= settings_.health_interval) {
                last_read_ = now;
                auto* probe = new health_ping();
                probe->deadline = now + settings_.timeout;
                queued_.push_back(probe);
                flush();
            }
        }
    }

    /// The health check's PING: a reply is all it wants.
    struct health_ping final : pending {
        void write_request(std::string& out) override {
            redis::commands::ping{}.write(out);
            replies_left = 1;
        }
        reply_effect on_reply(::hotstate::redis::reply, std::string_view, bool) override {
            delete this;
            return reply_effect::done;
        }
        bool on_lost(const error&, clock::time_point) override {
            delete this;
            return false;
        }
        void on_error(std::exception_ptr) override { delete this; }
    };

    /// An attempt the server refused (TLS verification, log-in): see run().
    struct refused {
        error why;
    };

    /// SNI and the name to verify, as the engine's tls_stream sets them.
    void prepare_session(SSL* ssl) {
        if (!name_is_ip_ && SSL_set_tlsext_host_name(ssl, server_name_.c_str()) != 1)
            throw refused{error(errc::configuration, where() + "TLS server_name '" + server_name_ + "' is not a valid host name")};
        if (!endpoint_.tls.verify_peer) return;
        X509_VERIFY_PARAM* parameters = SSL_get0_param(ssl);
        const bool set = name_is_ip_ ? X509_VERIFY_PARAM_set1_ip_asc(parameters, server_name_.c_str()) == 1
                                     : (X509_VERIFY_PARAM_set_hostflags(parameters, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS),
                                        X509_VERIFY_PARAM_set1_host(parameters, server_name_.c_str(), server_name_.size()) == 1);
        if (!set)
            throw refused{error(errc::configuration,
                                where() + "TLS server_name '" + server_name_ + "' is not a valid host name or IP address")};
    }

    /// A failed TLS step in words, the cause first (as the engine's tls_stream says it).
    [[gnu::cold]] error tls_failure(const boost::system::error_code& ec, std::string_view step) {
        SSL* ssl = tls_->native_handle();
        const long verified = SSL_get_verify_result(ssl);
        std::string text = where() + std::string(step) + ": ";
        ERR_clear_error();
        if (endpoint_.tls.verify_peer && verified != X509_V_OK)
            return error(errc::connection,
                         text + redis::tls::verify_failure_text(verified, server_name_, tls_settings_->trust_source()));
        if (ec == asio::ssl::error::stream_truncated) return error(errc::connection, text + "the server closed the connection");
        if (ec.category() != asio::error::get_ssl_category()) return error(errc::connection, text + ec.message());
        const auto code = static_cast<unsigned long>(ec.value());
        const int why = ERR_GET_LIB(code) == ERR_LIB_SSL ? ERR_GET_REASON(code) : 0;
        const std::string cause = ec.message();
        const auto meaning = redis::tls::explain_failure(why, cause, endpoint_.tls.cert_file, SSL_get_app_data(ssl) != nullptr);
        if (!meaning) return error(errc::connection, text + "the server closed the connection");
        return error(meaning->kind, text + meaning->text);
    }

    strand_type strand_;
    ::hotstate::redis::endpoint endpoint_;
    std::string address_;
    ::hotstate::redis::async_options settings_;
    socket_type socket_;
    std::optional<redis::tls_context> tls_settings_;      ///< rediss://: the engine's loaded TLS settings
    std::unique_ptr<asio::ssl::context> ssl_context_;     ///< the same OpenSSL context, for Asio
    std::string server_name_;                             ///< sent as SNI and verified
    bool name_is_ip_ = false;
    std::optional<tls_socket> tls_;                       ///< the session, over socket_'s connection
    asio::steady_timer tick_;
    asio::steady_timer backoff_;  ///< the wait between reconnect attempts (and for a write in flight to end)
    std::optional<redis::reply_reader> reader_;  ///< made anew for each connection
    std::array<char, 16384> read_buffer_{};
    std::string out_;  ///< the requests of the write in flight; reused (its capacity stays)
    std::deque<pending*> queued_;    ///< not written yet, in submission order
    std::deque<pending*> inflight_;  ///< written, awaiting replies in order
    std::optional<error> last_error_;
    clock::time_point last_read_{};
    std::atomic<std::uint64_t> connects_{0};
    bool connected_ = false;
    bool writing_ = false;      ///< a write is in flight
    bool handing_out_ = false;  ///< the read loop is completing a batch of replies
    bool stuck_ = false;
    bool closed_ = false;
    bool fail_queued_while_down_ = false;  ///< see fail_queued_while_down()
    bool down_ = false;                    ///< the last connect attempt failed
    bool readonly_ = false;                ///< see readonly_on_login()
};

}  // namespace hotstate::detail::async
