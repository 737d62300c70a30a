// The Redis Cluster backend against the standalone backend, both on the same
// single cluster-enabled redis-server that owns all 16384 slots (so the only
// difference is the client: slot hashing, slot table, per-node pools, the
// redirect loop), and against a raw hiredis loop that sends the same command
// straight to the node owning the key (the floor).
//
//   cluster_bench count <port> <case> <cluster|standalone|raw> <n>   n operations after warm-up
//                                                                 (callgrind: run n and 0, subtract)
//   cluster_bench throughput <port> [rounds] [ops]                 interleaved A B A B, median ratios
//   cluster_bench free-port
//
// Cases: get, set_ttl, incr, incr_expire, gcra, lock. bench/cluster/run.sh runs it all.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

#include <hiredis/hiredis.h>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/key.hpp>
#include <hotstate/store.hpp>

#include "support/free_port.hpp"
#include "support/interleave.hpp"

namespace {

using namespace std::chrono_literals;

struct text : hotstate::category<1, "bench-text"> {};
struct counter : hotstate::category<2, "bench-counter", std::int64_t> {};
struct rate : hotstate::category<3, "bench-rate", std::int64_t> {};
struct guard : hotstate::category<4, "bench-lock"> {};

constexpr std::string_view key_text = "key:000001";
constexpr std::string_view value_text = "abc";
const hotstate::gcra gcra_policy{1'000'000'000, 1s, 1'000'000'000};

volatile std::size_t sink_bytes = 0;  // keeps results alive without printing

enum class op_case { get, set_ttl, incr, incr_expire, gcra, lock };
const char* const all_cases[] = {"get", "set_ttl", "incr", "incr_expire", "gcra", "lock"};

op_case parse_case(std::string_view name) {
    for (std::size_t i = 0; i < std::size(all_cases); ++i)
        if (name == all_cases[i]) return static_cast<op_case>(i);
    throw std::invalid_argument("unknown case");
}

std::string url_of(int port) { return "redis://127.0.0.1:" + std::to_string(port); }

/// The same operations through a store over backend B.
template <class Backend>
struct store_side {
    hotstate::store<Backend, text, counter, rate, guard> store;

    template <class Config>
    explicit store_side(Config settings) : store(std::move(settings)) {}

    void run(op_case which) {
        switch (which) {
            case op_case::get: {
                const auto value = store.template get<text>(key_text);
                sink_bytes = sink_bytes + (value ? value->size() : 0);
                break;
            }
            case op_case::set_ttl:
                store.template set<text>(key_text, value_text, 60s);
                break;
            case op_case::incr:
                sink_bytes = sink_bytes + static_cast<std::size_t>(store.template increment<counter>("counter:1"));
                break;
            case op_case::incr_expire:
                sink_bytes = sink_bytes + static_cast<std::size_t>(store.template increment<counter>("counter:2", 1, 60s));
                break;
            case op_case::gcra:
                sink_bytes = sink_bytes + static_cast<std::size_t>(store.template check_rate<rate>("ip", gcra_policy).remaining);
                break;
            case op_case::lock: {
                auto held = store.template try_lock<guard>("job", 60s);
                if (held) sink_bytes = sink_bytes + static_cast<std::size_t>(held->release());
                break;
            }
        }
    }
};

hotstate::redis::cluster_config cluster_settings(int port) {
    hotstate::redis::cluster_config settings;
    settings.urls = {url_of(port)};
    settings.node.pool_max_connections = 1;
    return settings;
}

hotstate::redis::config standalone_settings(int port) {
    hotstate::redis::config settings;
    settings.url = url_of(port);
    settings.node.pool_max_connections = 1;
    return settings;
}

using cluster_side = store_side<hotstate::backends::redis_cluster>;
using standalone_side = store_side<hotstate::backends::redis>;

/// A careful hand-written client: the key encoded in a stack buffer, the
/// command sent straight to the node that owns it (here: the only node),
/// scripts by EVALSHA of the same Lua text the backends use.
struct raw_side {
    redisContext* context;

    explicit raw_side(int port) {
        context = redisConnect("127.0.0.1", port);
        if (!context || context->err) throw std::runtime_error("raw: cannot connect");
        for (const auto* s : hotstate::detail::redis::all_scripts) {
            const char* argv[] = {"SCRIPT", "LOAD", s->text.data()};
            const std::size_t sizes[] = {6, 4, s->text.size()};
            freeReplyObject(call(3, argv, sizes));
        }
    }
    ~raw_side() { redisFree(context); }

    static std::size_t encode(char* out, char prefix, std::string_view key) {
        out[0] = prefix;
        std::memcpy(out + 1, key.data(), key.size());
        return key.size() + 1;
    }

    redisReply* call(int argc, const char** argv, const std::size_t* lengths) {
        auto* reply = static_cast<redisReply*>(redisCommandArgv(context, argc, argv, lengths));
        if (!reply) throw std::runtime_error("raw: I/O error");
        return reply;
    }

    void run(op_case which) {
        char key[64];
        char number[24];
        switch (which) {
            case op_case::get: {
                const std::size_t n = encode(key, 1, key_text);
                const char* argv[] = {"GET", key};
                const std::size_t sizes[] = {3, n};
                redisReply* reply = call(2, argv, sizes);
                if (reply->type == REDIS_REPLY_STRING) {
                    const std::string value(reply->str, reply->len);  // the store hands back a std::string too
                    sink_bytes = sink_bytes + value.size();
                }
                freeReplyObject(reply);
                break;
            }
            case op_case::set_ttl: {
                const std::size_t n = encode(key, 1, key_text);
                const char* argv[] = {"SET", key, value_text.data(), "PX", "60000"};
                const std::size_t sizes[] = {3, n, value_text.size(), 2, 5};
                freeReplyObject(call(5, argv, sizes));
                break;
            }
            case op_case::incr: {
                const std::size_t n = encode(key, 2, "counter:1");
                const char* argv[] = {"INCRBY", key, "1"};
                const std::size_t sizes[] = {6, n, 1};
                redisReply* reply = call(3, argv, sizes);
                sink_bytes = sink_bytes + static_cast<std::size_t>(reply->integer);
                freeReplyObject(reply);
                break;
            }
            case op_case::incr_expire: {
                // what both backends send: MULTI/INCRBY/PEXPIRE/EXEC in one write
                const std::size_t n = encode(key, 2, "counter:2");
                const char* multi[] = {"MULTI"};
                const std::size_t multi_sizes[] = {5};
                const char* incr[] = {"INCRBY", key, "1"};
                const std::size_t incr_sizes[] = {6, n, 1};
                const char* expire[] = {"PEXPIRE", key, "60000"};
                const std::size_t expire_sizes[] = {7, n, 5};
                const char* exec[] = {"EXEC"};
                const std::size_t exec_sizes[] = {4};
                redisAppendCommandArgv(context, 1, multi, multi_sizes);
                redisAppendCommandArgv(context, 3, incr, incr_sizes);
                redisAppendCommandArgv(context, 3, expire, expire_sizes);
                redisAppendCommandArgv(context, 1, exec, exec_sizes);
                for (int i = 0; i < 4; ++i) {
                    void* raw = nullptr;
                    if (redisGetReply(context, &raw) != REDIS_OK) throw std::runtime_error("raw: I/O error");
                    auto* reply = static_cast<redisReply*>(raw);
                    if (i == 3 && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2)
                        sink_bytes = sink_bytes + static_cast<std::size_t>(reply->element[0]->integer);
                    freeReplyObject(reply);
                }
                break;
            }
            case op_case::gcra: {
                const std::size_t n = encode(key, 3, "ip");
                const auto now_us = std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count() *
                                    1000;
                const auto end = std::to_chars(number, number + sizeof number, now_us).ptr;
                const auto params = hotstate::rate_math::gcra_parameters_of(gcra_policy);
                char emission[24];
                char capacity[24];
                const auto emission_end = std::to_chars(emission, emission + sizeof emission, params.emission_us).ptr;
                const auto capacity_end = std::to_chars(capacity, capacity + sizeof capacity, params.capacity_us).ptr;
                const auto& s = hotstate::detail::redis::gcra_check;
                const char* argv[] = {"EVALSHA", s.sha.data(), "1", key, number, emission, capacity, "1", "1000"};
                const std::size_t sizes[] = {7, 40, 1, n, static_cast<std::size_t>(end - number),
                                             static_cast<std::size_t>(emission_end - emission),
                                             static_cast<std::size_t>(capacity_end - capacity), 1, 4};
                redisReply* reply = call(9, argv, sizes);
                if (reply->type == REDIS_REPLY_ARRAY) sink_bytes = sink_bytes + static_cast<std::size_t>(reply->element[2]->integer);
                freeReplyObject(reply);
                break;
            }
            case op_case::lock: {
                const std::size_t n = encode(key, 4, "job");
                const char owner[] = "0123456789abcdef0123456789abcdef";
                const auto& acquire = hotstate::detail::redis::lock_acquire;
                const char* argv[] = {"EVALSHA", acquire.sha.data(), "1", key, owner, "60000"};
                const std::size_t sizes[] = {7, 40, 1, n, 32, 5};
                redisReply* reply = call(6, argv, sizes);
                const bool won = reply->type == REDIS_REPLY_STRING;
                freeReplyObject(reply);
                if (won) {
                    // the release is HDEL of the holder's field (detail/redis/proto/scripts.hpp)
                    const char* rargv[] = {"HDEL", key, owner};
                    const std::size_t rsizes[] = {4, n, 32};
                    redisReply* released = call(3, rargv, rsizes);
                    sink_bytes = sink_bytes + static_cast<std::size_t>(released->integer);
                    freeReplyObject(released);
                }
                break;
            }
        }
    }
};

template <class Side>
double timed(Side& side, op_case which, std::size_t ops) {
    const auto start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < ops; ++i) side.run(which);
    return hotstate::bench::rate(ops, std::chrono::steady_clock::now() - start);
}

void prepare(int port) {
    raw_side raw(port);
    char key[64];
    const std::size_t n = raw_side::encode(key, 1, key_text);
    const char* argv[] = {"SET", key, value_text.data()};
    const std::size_t sizes[] = {3, n, value_text.size()};
    freeReplyObject(raw.call(3, argv, sizes));
}

template <class Side, class Settings>
void run_count(Settings settings, op_case which, std::size_t n) {
    Side side(std::move(settings));
    side.run(which);  // warm-up: connection, slot map, script load, first-use paths
    for (std::size_t i = 0; i < n; ++i) side.run(which);
}

int count_mode(int port, std::string_view name, std::string_view side_name, std::size_t n) {
    prepare(port);
    const op_case which = parse_case(name);
    if (side_name == "cluster") {
        run_count<cluster_side>(cluster_settings(port), which, n);
    } else if (side_name == "standalone") {
        run_count<standalone_side>(standalone_settings(port), which, n);
    } else if (side_name == "raw") {
        raw_side side(port);
        side.run(which);
        for (std::size_t i = 0; i < n; ++i) side.run(which);
    } else {
        throw std::invalid_argument("unknown side");
    }
    return 0;
}

int throughput_mode(int port, int rounds, std::size_t ops) {
    prepare(port);
    cluster_side cluster(cluster_settings(port));
    standalone_side standalone(standalone_settings(port));
    raw_side raw(port);
    for (const char* name : all_cases) {
        const op_case which = parse_case(name);
        cluster.run(which);
        standalone.run(which);
        raw.run(which);
        hotstate::bench::compare_interleaved(std::string("cluster_vs_standalone_") + name, rounds,
                                             [&] { return timed(cluster, which, ops); },
                                             [&] { return timed(standalone, which, ops); });
        hotstate::bench::compare_interleaved(std::string("cluster_vs_raw_") + name, rounds,
                                             [&] { return timed(cluster, which, ops); },
                                             [&] { return timed(raw, which, ops); });
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string_view mode = argc > 1 ? argv[1] : "";
        if (mode == "free-port") return hotstate::bench::print_free_port();
        if (argc < 3) {
            std::fprintf(stderr, "usage: see the header of bench/cluster/cluster_bench.cpp\n");
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
        std::fprintf(stderr, "cluster_bench: %s\n", e.what());
        return 1;
    }
}
