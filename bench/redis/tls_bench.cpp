// TLS against plain TCP through the same store, on one redis-server that
// listens on both (a plain port and a TLS port): GET throughput on one
// connection, and with a pool of 8 connections driven by 8 threads. Both sides
// interleave A B A B in one run; each line is `RATIO <name> <tls / plain>`.
// redis-benchmark -c 1 over both ports gives the same ratio without hotstate
// (RATIO redis_benchmark_tls_vs_plain_c1): the part the server and OpenSSL cost.
//
//   tls_bench [rounds] [ops]        (bench/redis/tls_run.sh builds and runs it)
//
// The fixture makes a CA, a server and a client certificate with the openssl
// command line (tests/support/tls_certs.hpp), as the TLS tests do.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <hotstate/backends/redis.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/redis/tls.hpp>  // TLS support in this program
#include <hotstate/store.hpp>

#include "support/interleave.hpp"
#include "support/tls_certs.hpp"

namespace {

struct text : hotstate::category<1, "bench-text"> {};
using bench_store = hotstate::store<hotstate::backends::redis, text>;

volatile std::size_t sink_bytes = 0;

hotstate::redis::config config_for(std::uint16_t port, bool tls, const hotstate::testing::tls_certs& certs,
                                   std::size_t pool) {
    hotstate::redis::config settings;
    settings.url = std::string(tls ? "rediss" : "redis") + "://127.0.0.1:" + std::to_string(port);
    if (tls) settings.node.tls.ca_file = certs.ca();
    settings.node.pool_max_connections = pool;
    settings.node.timeout = std::chrono::seconds{10};
    return settings;
}

/// GETs per second of `threads` threads doing `ops` GETs each on `store`.
double gets(bench_store& store, std::size_t threads, std::size_t ops) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (std::size_t t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            std::size_t bytes = 0;
            for (std::size_t i = 0; i < ops; ++i) bytes += store.get<text>("key:000001").value_or("").size();
            sink_bytes = sink_bytes + bytes;
        });
    for (auto& w : workers) w.join();
    return hotstate::bench::rate(threads * ops, std::chrono::steady_clock::now() - start);
}

/// redis-benchmark's own GET rate, -c 1, over TLS or not: what the server's TLS
/// costs without hotstate in the way.
double redis_benchmark_rate(std::uint16_t port, bool tls, const hotstate::testing::tls_certs& certs,
                            std::size_t requests) {
    std::string command = "redis-benchmark -h 127.0.0.1 -p " + std::to_string(port) + " -c 1 -t get -n " +
                          std::to_string(requests) + " --csv";
    if (tls) command += " --tls --cacert " + certs.ca();
    command += " 2>/dev/null";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), &::pclose);
    if (!pipe) throw std::runtime_error("cannot run redis-benchmark");
    char line[512];
    double rate = 0;
    while (std::fgets(line, sizeof line, pipe.get()))
        if (std::strncmp(line, "\"GET\",\"", 7) == 0) rate = std::strtod(line + 7, nullptr);
    if (rate <= 0) throw std::runtime_error("could not read redis-benchmark's GET rate");
    return rate;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const int rounds = argc > 1 ? std::atoi(argv[1]) : 11;
        const std::size_t ops = argc > 2 ? static_cast<std::size_t>(std::atol(argv[2])) : 2000;
        const hotstate::testing::tls_certs certs;
        hotstate::testing::redis_tls_server server(certs);
        const std::uint16_t plain_port = server.plain().port();
        for (const std::size_t pool : {std::size_t{1}, std::size_t{8}}) {
            bench_store plain(config_for(plain_port, false, certs, pool));
            bench_store tls(config_for(server.tls_port(), true, certs, pool));
            plain.set<text>("key:000001", "abc");
            (void)gets(plain, pool, 10);  // warm-up: every connection opened, TLS handshakes done
            (void)gets(tls, pool, 10);
            const std::string name = pool == 1 ? "throughput_tls_vs_plain_one_connection"
                                               : "throughput_tls_vs_plain_pool_of_8";
            hotstate::bench::compare_interleaved(
                name, rounds, [&] { return gets(tls, pool, pool == 1 ? ops : ops / 4); },
                [&] { return gets(plain, pool, pool == 1 ? ops : ops / 4); });
        }
        // the same comparison without hotstate: the server's and OpenSSL's share
        hotstate::bench::compare_interleaved(
            "redis_benchmark_tls_vs_plain_c1", rounds, [&] { return redis_benchmark_rate(server.tls_port(), true, certs, ops); },
            [&] { return redis_benchmark_rate(plain_port, false, certs, ops); });
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "tls_bench: %s\n", e.what());
        return 1;
    }
}
