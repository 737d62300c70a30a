// hotstate's memcached backend against a hand-written raw libmemcached loop
// doing the same operations (memcached_get, memcached_set, memcached_increment)
// on the same server.
//
//   memcached_bench count <port> <get|set|incr> <hotstate|raw> <n>   n operations after set-up (for callgrind:
//                                                           run n and 0, subtract, divide by n)
//   memcached_bench throughput <port> [rounds] [ops]        every case, interleaved A B A B on one connection
//                                                           each, median ratio
//   memcached_bench free-port                               a free loopback port (for run.sh)
//
// Both sides use one connection. hotstate speaks the meta protocol (mg, ms,
// ma); libmemcached 1.0 speaks the text protocol (get, set, incr), with
// TCP_NODELAY. The category's id is printable ('b'), so hotstate's keys go as
// text as libmemcached's do (a binary key would go base64-encoded, a few
// dozen instructions more). hotstate's incr creates the counter on a miss in
// the same command; libmemcached's increments one that exists.
// bench/memcached/run.sh runs it all and prints the RATIO lines.
#include <libmemcached/memcached.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include <hotstate/backends/memcached.hpp>
#include <hotstate/store.hpp>

#include "support/free_port.hpp"
#include "support/interleave.hpp"

namespace {

struct text : hotstate::category<'b', "bench-text"> {};
struct hits : hotstate::category<'c', "bench-hits", std::int64_t> {};
using bench_store = hotstate::store<hotstate::backends::memcached, text, hits>;

volatile std::size_t sink_bytes = 0;

hotstate::backends::memcached_config config_for(int port) {
    hotstate::backends::memcached_config settings;
    settings.urls = {"memcached://127.0.0.1:" + std::to_string(port)};
    settings.pool_max_connections = 1;
    return settings;
}

/// The raw side: one libmemcached handle, one server, blocking, TCP_NODELAY.
class raw_client {
public:
    explicit raw_client(int port) : handle_(memcached_create(nullptr)) {
        if (!handle_) throw std::runtime_error("memcached_create failed");
        memcached_behavior_set(handle_, MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
        if (memcached_server_add(handle_, "127.0.0.1", static_cast<in_port_t>(port)) != MEMCACHED_SUCCESS)
            throw std::runtime_error("memcached_server_add failed");
    }
    raw_client(const raw_client&) = delete;
    raw_client& operator=(const raw_client&) = delete;
    ~raw_client() { memcached_free(handle_); }

    void get(std::string_view key) {
        std::size_t length = 0;
        std::uint32_t flags = 0;
        memcached_return_t rc;
        char* value = memcached_get(handle_, key.data(), key.size(), &length, &flags, &rc);
        if (!value) throw std::runtime_error("memcached_get failed");
        sink_bytes = sink_bytes + length;
        std::free(value);
    }
    void set(std::string_view key, std::string_view value) {
        if (memcached_set(handle_, key.data(), key.size(), value.data(), value.size(), 60, 0) != MEMCACHED_SUCCESS)
            throw std::runtime_error("memcached_set failed");
    }
    void incr(std::string_view key) {
        std::uint64_t value = 0;
        if (memcached_increment(handle_, key.data(), key.size(), 1, &value) != MEMCACHED_SUCCESS)
            throw std::runtime_error("memcached_increment failed");
        sink_bytes = sink_bytes + value;
    }

private:
    memcached_st* handle_;
};

// the keys as each side sends them: hotstate's category byte 'b'/'c' then "key"
const std::string raw_text_key = "bkey";
const std::string raw_counter_key = "ckey";

enum class operation { get, set, incr };

operation operation_named(std::string_view name) {
    if (name == "get") return operation::get;
    if (name == "set") return operation::set;
    if (name == "incr") return operation::incr;
    throw std::runtime_error("unknown case (get, set, incr)");
}

/// One operation of `which` on the hotstate side.
void hotstate_op(bench_store& store, operation which) {
    using namespace std::chrono_literals;
    switch (which) {
        case operation::get: {
            const auto value = store.get<text>("key");
            sink_bytes = sink_bytes + value->size();
            break;
        }
        case operation::set: store.set<text>("key", "xxx", 60s); break;
        case operation::incr: sink_bytes = sink_bytes + static_cast<std::size_t>(store.increment<hits>("key")); break;
    }
}

void raw_op(raw_client& raw, operation which) {
    switch (which) {
        case operation::get: raw.get(raw_text_key); break;
        case operation::set: raw.set(raw_text_key, "xxx"); break;
        case operation::incr: raw.incr(raw_counter_key); break;
    }
}

int count_mode(int port, std::string_view name, std::string_view side, std::size_t n) {
    const operation which = operation_named(name);
    {
        raw_client setup(port);
        setup.set(raw_text_key, "xxx");
        setup.set(raw_counter_key, "0");
    }
    if (side == "hotstate") {
        bench_store store(config_for(port));
        hotstate_op(store, which);  // connects: set-up, in both runs
        for (std::size_t i = 0; i < n; ++i) hotstate_op(store, which);
    } else {
        raw_client raw(port);
        raw_op(raw, which);
        for (std::size_t i = 0; i < n; ++i) raw_op(raw, which);
    }
    return 0;
}

int throughput_mode(int port, int rounds, std::size_t ops) {
    raw_client raw(port);
    raw.set(raw_text_key, "xxx");
    raw.set(raw_counter_key, "0");
    bench_store store(config_for(port));
    for (const char* name : {"get", "set", "incr"}) {
        const operation which = operation_named(name);
        hotstate_op(store, which);
        raw_op(raw, which);
        hotstate::bench::compare_interleaved(
            std::string("throughput_") + name + "_one_connection", rounds,
            [&] {
                const auto start = std::chrono::steady_clock::now();
                for (std::size_t i = 0; i < ops; ++i) hotstate_op(store, which);
                return hotstate::bench::rate(ops, std::chrono::steady_clock::now() - start);
            },
            [&] {
                const auto start = std::chrono::steady_clock::now();
                for (std::size_t i = 0; i < ops; ++i) raw_op(raw, which);
                return hotstate::bench::rate(ops, std::chrono::steady_clock::now() - start);
            });
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string_view mode = argc > 1 ? argv[1] : "";
        if (mode == "free-port") return hotstate::bench::print_free_port();
        if (argc < 3) {
            std::fprintf(stderr, "usage: see the header of bench/memcached/memcached_bench.cpp\n");
            return 2;
        }
        const int port = std::atoi(argv[2]);
        if (mode == "count" && argc == 6)
            return count_mode(port, argv[3], argv[4], static_cast<std::size_t>(std::atol(argv[5])));
        if (mode == "throughput")
            return throughput_mode(port, argc > 3 ? std::atoi(argv[3]) : 21,
                                   argc > 4 ? static_cast<std::size_t>(std::atol(argv[4])) : 2000);
        std::fprintf(stderr, "unknown mode\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "memcached_bench: %s\n", e.what());
        return 1;
    }
}
