// A coordinator node over a durable transport in a process of its own, for the
// crash law of laws/transport.hpp: it reads from the beginning through its
// cursor (Redis Streams) or durable consumer (JetStream) and handles every
// ping slowly, writing one line per handled event to stdout (unbuffered: a
// line is written before the next event is handled, so what a SIGKILL leaves
// in the log is what was handled).
//
//   laws_transport_worker redis-streams   <redis url> <stream> <cursor key>            <milliseconds per event>
//   laws_transport_worker cluster-streams <seed url>  <stream> <cursor key>            <milliseconds per event>
//   laws_transport_worker jetstream       <nats url>  <stream> <subject> <consumer>    <milliseconds per event>
//
// Prints "reading" once positioned, then "event <message sequence> <ping.n>"
// per event; stops cleanly on SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>
#include <thread>

#include <hotstate/coordinator.hpp>
#include <hotstate/transports/redis_cluster_streams.hpp>
#include <hotstate/transports/redis_streams.hpp>
#ifdef HOTSTATE_WORKER_NATS
#include <hotstate/transports/nats_jetstream.hpp>
#endif

#include "coordinator/test_events.hpp"
#include "support/eventually.hpp"

namespace {

/// Runs node 2 over `transport` until SIGTERM (in `stop_signals`).
template <class T, class Ready>
int run(T transport, std::chrono::milliseconds per_event, Ready ready, sigset_t& stop_signals) {
    hotstate::coordinator<T, coord_test::pings> node({.node_id = 2}, std::move(transport));
    node.template subscribe<coord_test::ping>([&](const coord_test::ping& p, const hotstate::delivery& from) {
        std::this_thread::sleep_for(per_event);  // the work a real handler does, not synchronisation
        std::printf("event %llu %llu\n", static_cast<unsigned long long>(from.sequence),
                    static_cast<unsigned long long>(p.n));
        std::fflush(stdout);
    });
    node.start();
    if (!hotstate::testing::eventually([&] { return ready(node.transport()); })) {
        std::fprintf(stderr, "not reading: %s\n", node.transport().last_error().c_str());
        return 1;
    }
    std::printf("reading\n");
    std::fflush(stdout);
    int received = 0;
    sigwait(&stop_signals, &received);
    node.stop();
    return 0;
}

hotstate::transports::redis_streams_options stream_options(char** argv) {
    hotstate::transports::redis_streams_options options;
    options.stream = argv[3];
    options.cursor_key = argv[4];
    options.from_beginning = true;  // the first life reads what was published before it
    options.block = std::chrono::milliseconds{200};
    return options;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string_view kind = argc > 1 ? argv[1] : "";
    const int expected = kind == "jetstream" ? 7 : 6;
    if (argc != expected) {
        std::fprintf(stderr, "usage: %s redis-streams|cluster-streams <url> <stream> <cursor key> <ms per event>\n"
                             "       %s jetstream <url> <stream> <subject> <consumer> <ms per event>\n",
                     argv[0], argv[0]);
        return 2;
    }
    // SIGTERM is taken by sigwait below: block it before any thread starts, so none inherits it
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    const std::chrono::milliseconds per_event{std::atol(argv[argc - 1])};
    const auto reading = [](auto& transport) { return transport.reading(); };
    try {
        if (kind == "redis-streams") {
            hotstate::redis::config settings;
            settings.url = argv[2];
            settings.node.timeout = std::chrono::seconds{2};
            return run(hotstate::transports::redis_streams(settings, stream_options(argv)), per_event, reading,
                       stop_signals);
        }
        if (kind == "cluster-streams") {
            hotstate::redis::cluster_config settings;
            settings.urls = {argv[2]};
            settings.node.timeout = std::chrono::seconds{2};
            return run(hotstate::transports::make_redis_cluster_streams(settings, stream_options(argv)), per_event,
                       reading, stop_signals);
        }
#ifdef HOTSTATE_WORKER_NATS
        if (kind == "jetstream") {
            hotstate::transports::nats_settings settings;
            settings.url = argv[2];
            hotstate::transports::nats_jetstream_options options;
            options.stream = argv[3];
            options.subject = argv[4];
            options.consumer = argv[5];
            options.from_beginning = true;
            options.ack_wait = std::chrono::seconds{1};  // the next life gets the unacknowledged message soon
            return run(hotstate::transports::nats_jetstream(settings, options), per_event,
                       [](auto& transport) { return transport.subscribed(); }, stop_signals);
        }
#endif
        std::fprintf(stderr, "laws_transport_worker: no transport named %s here\n", argv[1]);
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "laws_transport_worker: %s\n", e.what());
        return 1;
    }
}
