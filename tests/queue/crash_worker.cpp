// A worker process of the crash test: runs jobs until it is SIGKILLed. Running
// a job means counting it in a hash (HINCRBY), then the pool acks it; a kill
// between the two runs the job again elsewhere, which the driver counts.
#include <cstdio>
#include <string>

#include <unistd.h>

#include <hotstate/queue/worker_pool.hpp>

#include "queue/crash_jobs.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: queue_crash_worker redis://host:port\n");
        return 2;
    }
    hotstate::redis::config settings{.url = argv[1]};
    settings.node.pool_max_connections = 8;
    crash_test::redis_store store(settings);
    auto queue = hotstate::queue<crash_test::jobs>(store, crash_test::options);
    hotstate::worker_pool pool(
        queue,
        [&](const std::string& job) {
            store.backend().with_connection([&](hotstate::redis::connection& c) {
                auto r = c.command("HINCRBY", "HINCRBY", std::string_view(crash_test::runs_key), job, "1");
                if (r.is_error()) throw std::runtime_error("HINCRBY failed");
                return 0;
            });
        },
        {.threads = crash_test::threads_per_worker, .heartbeat_every = 300ms, .claim_wait = 300ms});
    for (;;) pause();  // until SIGKILL
}
