// The asynchronous store on one connection against redis-benchmark and the
// blocking store; run through bench/async/run.sh, which prints RATIO lines.
//
//   async_bench free-port
//   async_bench many <port> <rounds> <ops>     64 coroutines, GET and INCR, vs redis-benchmark -c 50 and -c 1 -P 64
//   async_bench single <port> <rounds> <ops>   one caller at a time: async vs blocking store (throughput ratio;
//                                              the latency ratio is its inverse)
//   async_bench count <port> <ops>             <ops> GETs with 64 in flight (for callgrind)
//   async_bench cluster <port> <rounds> <ops> <cluster-port>...
//                                              64 coroutines' GETs: async_redis_cluster (the cluster of the
//                                              given nodes) vs async_redis on the server at <port>, and vs
//                                              async_redis on the cluster node owning the key
#include <utility>  // g++ 12: before boost/asio/awaitable.hpp

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <hotstate/async_store.hpp>
#include <hotstate/backends/async_redis.hpp>
#include <hotstate/backends/async_redis_cluster.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/store.hpp>

#include "support/free_port.hpp"
#include "support/interleave.hpp"

namespace {
namespace asio = boost::asio;
struct text : hotstate::category<2, "bench-text"> {};
struct hits : hotstate::category<3, "bench-hits", std::int64_t> {};
using async_store = hotstate::async_store<hotstate::backends::async_redis, text, hits>;
using cluster_store = hotstate::async_store<hotstate::backends::async_redis_cluster, text, hits>;
std::size_t sink = 0;

hotstate::redis::config config_of(int port) { return {.url = "redis://127.0.0.1:" + std::to_string(port)}; }

/// `ops` operations spread over `callers` coroutines on one store; operations per second.
template <class Store>
double run_many(Store& store, asio::io_context& io, int callers, std::size_t ops, bool incr) {
    io.restart();
    std::size_t left = ops;
    int finished = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < callers; ++i) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                while (left > 0) {
                    --left;  // one thread runs io: no race
                    if (incr)
                        sink += static_cast<std::size_t>(co_await store.template async_increment<hits>(
                            "counter:__rand_int__", 1, std::nullopt, asio::use_awaitable));
                    else
                        sink += (co_await store.template async_get<text>("key:__rand_int__", asio::use_awaitable))->size();
                }
                ++finished;
            },
            asio::detached);
    }
    // the connection's own loops never end: run until the callers are done
    while (finished < callers) io.run_one();
    return hotstate::bench::rate(ops, std::chrono::steady_clock::now() - start);
}

double redis_benchmark(int port, const char* args, const char* test, std::size_t requests) {
    const std::string command = "redis-benchmark -h 127.0.0.1 -p " + std::to_string(port) + " " + args + " -t " + test +
                                " -n " + std::to_string(requests) + " --csv 2>/dev/null";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), &::pclose);
    if (!pipe) throw std::runtime_error("cannot run redis-benchmark");
    char line[512];
    double rate = 0;
    std::string wanted = "\"";
    for (const char* c = test; *c; ++c) wanted += static_cast<char>(std::toupper(*c));
    wanted += "\",\"";
    while (std::fgets(line, sizeof line, pipe.get()))
        if (std::strncmp(line, wanted.c_str(), wanted.size()) == 0) rate = std::strtod(line + wanted.size(), nullptr);
    if (rate <= 0) throw std::runtime_error("could not read redis-benchmark's rate");
    return rate;
}

template <class Store = async_store>
struct bench_setup {
    asio::io_context io;
    Store store;
    template <class Settings>
    explicit bench_setup(const Settings& settings) : store(io.get_executor(), settings) {
        // redis-benchmark's keys, under the categories' prefix bytes
        auto done = store.template async_set<text>("key:__rand_int__", std::string("xxx"), std::nullopt, asio::use_future);
        while (done.wait_for(std::chrono::seconds(0)) != std::future_status::ready) io.run_one();
        done.get();
    }
};

int many(int port, int rounds, std::size_t ops) {
    bench_setup<> b(config_of(port));
    for (const bool incr : {false, true}) {
        const char* test = incr ? "incr" : "get";
        hotstate::bench::compare_interleaved(std::string("async64_vs_redis_benchmark_c50_") + test, rounds,
                                             [&] { return run_many(b.store, b.io, 64, ops, incr); },
                                             [&] { return redis_benchmark(port, "-c 50", test, ops); });
        hotstate::bench::compare_interleaved(std::string("async64_vs_redis_benchmark_c1_P64_") + test, rounds,
                                             [&] { return run_many(b.store, b.io, 64, ops, incr); },
                                             [&] { return redis_benchmark(port, "-c 1 -P 64", test, ops); });
    }
    return 0;
}

int single(int port, int rounds, std::size_t ops) {
    bench_setup<> b(config_of(port));
    hotstate::store<hotstate::backends::redis, text, hits> blocking(config_of(port));
    hotstate::bench::compare_interleaved(
        "async_single_caller_vs_blocking_get", rounds, [&] { return run_many(b.store, b.io, 1, ops, false); },
        [&] {
            const auto start = std::chrono::steady_clock::now();
            for (std::size_t i = 0; i < ops; ++i) sink += blocking.get<text>("key:__rand_int__")->size();
            return hotstate::bench::rate(ops, std::chrono::steady_clock::now() - start);
        });
    return 0;
}

int cluster(int port, const std::vector<int>& cluster_ports, int rounds, std::size_t ops) {
    bench_setup<> standalone(config_of(port));
    hotstate::redis::cluster_config settings;
    settings.urls = {"redis://127.0.0.1:" + std::to_string(cluster_ports.front())};
    bench_setup<cluster_store> clustered(settings);
    hotstate::bench::compare_interleaved(
        "async_cluster_vs_standalone_get", rounds, [&] { return run_many(clustered.store, clustered.io, 64, ops, false); },
        [&] { return run_many(standalone.store, standalone.io, 64, ops, false); });
    // the client's own cost: async_redis straight to the master that owns the key (the others answer MOVED)
    std::unique_ptr<bench_setup<>> owner;
    for (const int p : cluster_ports) {
        try {
            owner = std::make_unique<bench_setup<>>(config_of(p));
            break;
        } catch (const hotstate::error&) {
        }
    }
    if (!owner) throw std::runtime_error("no cluster node owns the bench key");
    hotstate::bench::compare_interleaved(
        "async_cluster_vs_async_redis_on_the_keys_master_get", rounds,
        [&] { return run_many(clustered.store, clustered.io, 64, ops, false); },
        [&] { return run_many(owner->store, owner->io, 64, ops, false); });
    return 0;
}

int count(int port, std::size_t ops) {
    bench_setup<> b(config_of(port));
    if (ops > 0) run_many(b.store, b.io, 64, ops, false);
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string mode = argc > 1 ? argv[1] : "";
        if (mode == "free-port") return hotstate::bench::print_free_port();
        if (argc < 3) throw std::runtime_error("usage: async_bench free-port | many|single <port> <rounds> <ops> | count <port> <ops>");
        const int port = std::atoi(argv[2]);
        if (mode == "count") return count(port, argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 0);
        if (mode == "cluster") {
            if (argc < 6) throw std::runtime_error("usage: async_bench cluster <port> <rounds> <ops> <cluster-port>...");
            std::vector<int> cluster_ports;
            for (int i = 5; i < argc; ++i) cluster_ports.push_back(std::atoi(argv[i]));
            return cluster(port, cluster_ports, std::atoi(argv[3]), std::strtoull(argv[4], nullptr, 10));
        }
        const int rounds = argc > 3 ? std::atoi(argv[3]) : 11;
        const std::size_t ops = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 100000;
        if (mode == "many") return many(port, rounds, ops);
        if (mode == "single") return single(port, rounds, ops);
        throw std::runtime_error("unknown mode " + mode);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "async_bench: %s\n", e.what());
        return 1;
    }
}
