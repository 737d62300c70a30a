// A coordinator node over NATS JetStream in a process of its own, for the
// crash test of tests/coordinator/coordinator_nats.cpp: it reads through its
// durable consumer and handles every ping slowly, writing one line per handled
// event to stdout (unbuffered: a line is written before the next event is
// handled, so what a SIGKILL leaves in the log is what was handled).
//
//   coordinator_jetstream_worker <nats url> <stream> <subject> <consumer> <milliseconds per event>
//
// Prints "reading" once bound, then "event <message sequence> <ping.n>" per
// event; stops cleanly on SIGTERM.
#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>

#include <hotstate/coordinator.hpp>
#include <hotstate/transports/nats_jetstream.hpp>

#include "coordinator/test_events.hpp"
#include "support/eventually.hpp"

int main(int argc, char** argv) {
    if (argc != 6) {
        std::fprintf(stderr, "usage: %s <nats url> <stream> <subject> <consumer> <milliseconds per event>\n", argv[0]);
        return 2;
    }
    // SIGTERM is taken by sigwait below: block it before any thread starts, so none inherits it
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    try {
        hotstate::transports::nats_settings settings;
        settings.url = argv[1];
        hotstate::transports::nats_jetstream_options options;
        options.stream = argv[2];
        options.subject = argv[3];
        options.consumer = argv[4];
        options.from_beginning = true;  // the first life reads what was published before it
        options.ack_wait = std::chrono::seconds{1};  // the next life gets the unacknowledged message soon
        const std::chrono::milliseconds per_event{std::atol(argv[5])};

        hotstate::coordinator<hotstate::transports::nats_jetstream, coord_test::pings> node(
            {.node_id = 2}, hotstate::transports::nats_jetstream(settings, options));
        node.subscribe<coord_test::ping>([&](const coord_test::ping& p, const hotstate::delivery& from) {
            std::this_thread::sleep_for(per_event);  // the work a real handler does, not synchronisation
            std::printf("event %llu %llu\n", static_cast<unsigned long long>(from.sequence),
                        static_cast<unsigned long long>(p.n));
            std::fflush(stdout);
        });
        node.start();
        if (!hotstate::testing::eventually([&] { return node.transport().subscribed(); })) {
            std::fprintf(stderr, "not subscribed: %s\n", node.transport().last_error().c_str());
            return 1;
        }
        std::printf("reading\n");
        std::fflush(stdout);
        int received = 0;
        sigwait(&stop_signals, &received);
        node.stop();
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "coordinator_jetstream_worker: %s\n", e.what());
        return 1;
    }
}
