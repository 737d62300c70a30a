// Worker scaling on one Redis queue: a worker_pool of N threads in one process
// against N processes running a worker_pool of one thread each, interleaved
// round by round on the same server.
//
//   queue_scaling_bench <port> [rounds] [jobs] [--ratio-only]
//
// Each round enqueues `jobs` jobs (enqueue_bulk) and readies the workers (each
// process opens its own store and loads the scripts first); the clock runs from
// the start of the pools until their handlers have seen every job (a counter
// in memory shared by the processes).
//
//   RATIO queue_workers_4_threads_vs_4_processes  jobs/s of 4 threads / jobs/s of 4 processes
//   FIGURE queue_workers_4_{threads,processes}_cpu_us_per_job  client CPU time (user + system,
//          the processes' included) per job, median: less at the mercy of other load than rates
//   FIGURE queue_workers_<n>_threads, queue_workers_<n>_processes   median jobs/s, n = 1, 2, 4, 8
//   FIGURE queue_loop_<n>_threads   n threads running claim / ack_and_claim themselves, no pool
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include <hotstate/queue/redis_queue.hpp>
#include <hotstate/queue/worker_pool.hpp>

#include "support/interleave.hpp"

namespace {

using namespace std::chrono_literals;
using hotstate::bench::median;

struct jobs : hotstate::queue_category<81, "scaling-jobs"> {};
using redis_store = hotstate::store<hotstate::backends::redis, jobs>;
const std::string payload(64, 'j');

hotstate::redis::config settings_for(int port) {
    hotstate::redis::config settings{.url = "redis://127.0.0.1:" + std::to_string(port)};
    settings.node.pool_max_connections = 16;
    return settings;
}

/// A worker's loop without a pool, until the queue is empty; how many jobs it settled.
template <class Queue>
std::size_t drain(Queue& q) {
    std::size_t done = 0;
    auto job = q.claim(0ms);
    while (job) {
        job = q.ack_and_claim(*job, 0ms).next;
        ++done;
    }
    return done;
}

void fill(int port, int n) {
    redis_store store(settings_for(port));
    auto q = hotstate::queue<jobs>(store);
    q.purge();
    std::vector<std::string> batch(static_cast<std::size_t>(n), payload);
    q.enqueue_bulk(batch);
}

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// CPU seconds (user + system) this process and its waited-for children used so far.
double cpu_seconds() {
    double total = 0;
    for (int who : {RUSAGE_SELF, RUSAGE_CHILDREN}) {
        rusage usage{};
        ::getrusage(who, &usage);
        for (const timeval& t : {usage.ru_utime, usage.ru_stime})
            total += static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    }
    return total;
}

/// Client CPU microseconds per job of the last run of each side (figures beside the rates).
std::vector<double> threads_cpu, processes_cpu;

/// Jobs handled, in memory every worker process shares.
std::atomic<std::uint64_t>& handled() {
    static auto* counter = [] {
        void* shared = ::mmap(nullptr, sizeof(std::atomic<std::uint64_t>), PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shared == MAP_FAILED) std::exit(1);
        return new (shared) std::atomic<std::uint64_t>(0);
    }();
    return *counter;
}

/// Until the handlers have seen `n` jobs (the bench's poll: one poller per side).
void wait_handled(int n) {
    while (handled().load(std::memory_order_relaxed) < static_cast<std::uint64_t>(n)) std::this_thread::sleep_for(100us);
}

/// A worker_pool of `threads` on its own store: `ready()` once connected, then runs until `done()` returns.
void run_pool(int port, std::size_t threads, const std::function<void()>& ready, const std::function<void()>& done) {
    redis_store store(settings_for(port));
    auto q = hotstate::queue<jobs>(store);
    (void)q.counts();  // a connection up and the scripts loaded before the clock runs
    ready();
    hotstate::worker_pool pool(q, [](const std::string&) { handled().fetch_add(1, std::memory_order_relaxed); },
                               {.threads = threads, .claim_wait = 100ms});
    done();
    (void)pool.stop(0ms);
}

/// A worker_pool of `threads` threads in this process drains `n` jobs: jobs/s.
double threads_side(int port, int n, int threads) {
    fill(port, n);
    handled() = 0;
    std::chrono::steady_clock::time_point start;
    double took = 0;
    const double cpu_before = cpu_seconds();
    run_pool(port, static_cast<std::size_t>(threads), [&] { start = std::chrono::steady_clock::now(); },
             [&] {
                 wait_handled(n);
                 took = seconds_since(start);
             });
    threads_cpu.push_back((cpu_seconds() - cpu_before) * 1e6 / n);
    return n / took;
}

/// `processes` processes, each with a worker_pool of one thread, drain `n` jobs: jobs/s.
double processes_side(int port, int n, int processes) {
    fill(port, n);
    handled() = 0;
    const double cpu_before = cpu_seconds();
    std::vector<pid_t> children;
    std::vector<int> ready_fds, go_fds;
    for (int w = 0; w < processes; ++w) {
        int ready[2], go[2];
        if (::pipe(ready) != 0 || ::pipe(go) != 0) std::exit(1);
        const pid_t child = ::fork();
        if (child < 0) std::exit(1);
        if (child == 0) {
            ::close(ready[0]);
            ::close(go[1]);
            char byte = 'r';
            run_pool(
                port, 1, [&] {
                    if (::write(ready[1], &byte, 1) != 1 || ::read(go[0], &byte, 1) != 1) ::_exit(2);
                },
                [&] {
                    if (::read(go[0], &byte, 1) != 1) ::_exit(2);  // the parent saw every job handled
                });
            ::_exit(0);
        }
        ::close(ready[1]);
        ::close(go[0]);
        children.push_back(child);
        ready_fds.push_back(ready[0]);
        go_fds.push_back(go[1]);
    }
    char byte = 0;
    for (int fd : ready_fds)
        if (::read(fd, &byte, 1) != 1) std::exit(1);
    const auto start = std::chrono::steady_clock::now();
    for (int fd : go_fds)
        if (::write(fd, "g", 1) != 1) std::exit(1);
    wait_handled(n);
    const double took = seconds_since(start);
    for (int fd : go_fds)
        if (::write(fd, "s", 1) != 1) std::exit(1);
    for (pid_t child : children) {
        int status = 0;
        ::waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) std::fprintf(stderr, "a worker process failed\n");
    }
    for (int fd : ready_fds) ::close(fd);
    for (int fd : go_fds) ::close(fd);
    processes_cpu.push_back((cpu_seconds() - cpu_before) * 1e6 / n);
    return n / took;
}

/// `threads` threads sharing one store run the worker's loop themselves: jobs/s.
double loop_side(int port, int n, int threads) {
    fill(port, n);
    redis_store store(settings_for(port));
    auto q = hotstate::queue<jobs>(store);
    (void)q.counts();
    std::atomic<std::size_t> done{0};
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) workers.emplace_back([&] { done += drain(q); });
    for (auto& t : workers) t.join();
    return static_cast<double>(done.load()) / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: queue_scaling_bench <port> [rounds] [jobs] [--ratio-only]\n");
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
    const int n = argc > 3 ? std::atoi(argv[3]) : 8000;

    hotstate::bench::compare_interleaved(
        "queue_workers_4_threads_vs_4_processes", rounds, [&] { return threads_side(port, n, 4); },
        [&] { return processes_side(port, n, 4); });
    std::printf("FIGURE queue_workers_4_threads_cpu_us_per_job %.1f\n", median(threads_cpu));
    std::printf("FIGURE queue_workers_4_processes_cpu_us_per_job %.1f\n", median(processes_cpu));
    std::fflush(stdout);
    if (argc > 4 && std::string(argv[4]) == "--ratio-only") return 0;

    for (int workers : {1, 2, 4, 8}) {
        std::vector<double> threads, processes, loop;
        for (int round = 0; round < std::max(3, rounds / 2); ++round) {
            threads.push_back(threads_side(port, n, workers));
            processes.push_back(processes_side(port, n, workers));
            loop.push_back(loop_side(port, n, workers));
        }
        std::printf("FIGURE queue_workers_%d_threads %.0f jobs/s\n", workers, median(threads));
        std::printf("FIGURE queue_workers_%d_processes %.0f jobs/s\n", workers, median(processes));
        std::printf("FIGURE queue_loop_%d_threads %.0f jobs/s\n", workers, median(loop));
        std::fflush(stdout);
    }
    return 0;
}
