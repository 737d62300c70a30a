// hotstate's Redis backend against a hand-written raw hiredis loop doing the
// same commands (redisCommandArgv, no format strings) on the same server.
//
//   redis_bench count <port> <case> <hotstate|compiled|raw|raw_formatted> <n>   n operations after set-up (for callgrind:
//                                                       run n and 0, subtract, divide by n)
//   redis_bench throughput <port> [rounds] [ops] [case...]  every case (or those named), interleaved A B A B,
//                                                       median ratio
//   redis_bench batch <port> [rounds] [batches]          16 pipelined GETs vs redis-benchmark -c 1 -P 16
//   redis_bench free-port                                a free loopback port (for run.sh)
//
// Cases: get, set_ttl, incr, incr_expire, rate_fixed, lock, lock_owner_checked.
// The raw side of incr_expire and rate_fixed is the seeds' MULTI/INCRBY/EXPIRE/
// EXEC; of lock, the seeds' SET NX PX + DEL (no owner check, no fence: hotstate
// does more); of lock_owner_checked, SET token NX PX + a compare-and-DEL script
// (owner-checked, still no fence and no extend).
// bench/redis/run.sh runs it all and prints the RATIO lines.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iterator>
#include <charconv>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <hiredis/hiredis.h>

#include <hotstate/backends/compiled.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/detail/redis/proto/resp.hpp>
#include <hotstate/detail/base/token.hpp>
#include <hotstate/key.hpp>
#include <hotstate/redis/batch.hpp>
#include <hotstate/store.hpp>

#include "support/free_port.hpp"
#include "support/interleave.hpp"

namespace {

using namespace std::chrono_literals;

struct text : hotstate::category<1, "bench-text"> {};
struct counter : hotstate::category<2, "bench-counter", std::int64_t> {};
struct rate : hotstate::category<3, "bench-rate", std::int64_t> {};
struct guard : hotstate::category<4, "bench-lock"> {};

template <class Backend>
using store_over = hotstate::store<Backend, text, counter, rate, guard>;
using bench_store = store_over<hotstate::backends::redis>;
// the same backend compiled once in bench/compile/compiled_engine.cpp (the "compiled" side)
using compiled_redis = hotstate::backends::compiled<hotstate::backends::redis>;

constexpr std::string_view key_text = "key:000001";
constexpr std::string_view value_text = "abc";
const hotstate::fixed_window window_policy{1'000'000'000, 60s};

volatile std::size_t sink_bytes = 0;  // keeps results alive without printing

enum class op_case { get, set_ttl, incr, incr_expire, rate_fixed, lock, lock_owner_checked };
const char* const all_cases[] = {"get", "set_ttl", "incr", "incr_expire", "rate_fixed", "lock", "lock_owner_checked"};

op_case parse_case(std::string_view name) {
    for (std::size_t i = 0; i < std::size(all_cases); ++i)
        if (name == all_cases[i]) return static_cast<op_case>(i);
    throw std::invalid_argument("unknown case");
}

// ---- the hotstate side --------------------------------------------------------

template <class Backend>
struct store_side {
    store_over<Backend> store;

    explicit store_side(int port) : store(make_config(port)) {}

    static hotstate::redis::config make_config(int port) {
        hotstate::redis::config settings;
        settings.url = "redis://127.0.0.1:" + std::to_string(port);
        settings.node.pool_max_connections = 1;
        return settings;
    }

    void run(op_case which) {
        if (which == op_case::get) {
            const auto value = store.template get<text>(key_text);
            sink_bytes = sink_bytes + (value ? value->size() : 0);
        } else if (which == op_case::set_ttl) {
            store.template set<text>(key_text, value_text, 60s);
        } else if (which == op_case::incr) {
            sink_bytes = sink_bytes + static_cast<std::size_t>(store.template increment<counter>("counter:1"));
        } else if (which == op_case::incr_expire) {
            sink_bytes = sink_bytes + static_cast<std::size_t>(store.template increment<counter>("counter:2", 1, 60s));
        } else if (which == op_case::rate_fixed) {
            sink_bytes = sink_bytes + static_cast<std::size_t>(store.template check_rate<rate>("sender", window_policy).remaining);
        } else if (which == op_case::lock || which == op_case::lock_owner_checked) {
            auto held = store.template try_lock<guard>("job", 60s);
            if (held) sink_bytes = sink_bytes + static_cast<std::size_t>(held->release());
        } else {
            throw std::invalid_argument("unknown case");
        }
    }
};
using hotstate_side = store_side<hotstate::backends::redis>;
using compiled_side = store_side<compiled_redis>;

// ---- the raw hiredis side -------------------------------------------------------

struct raw_side {
    redisContext* context;

    // the usual single-instance owner-checked release: compare the token, then DEL
    static constexpr std::string_view checked_release =
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
    std::string checked_release_sha;

    explicit raw_side(int port) {
        context = redisConnect("127.0.0.1", port);
        if (!context || context->err) throw std::runtime_error("raw: cannot connect");
        const char* argv[] = {"SCRIPT", "LOAD", checked_release.data()};
        const std::size_t sizes[] = {6, 4, checked_release.size()};
        redisReply* reply = call(3, argv, sizes);
        checked_release_sha.assign(reply->str, reply->len);
        freeReplyObject(reply);
    }
    ~raw_side() { redisFree(context); }

    // a careful hand-written client: key = prefix byte ++ key in a stack buffer
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

    std::int64_t multi_incr_expire(const char* key, std::size_t key_size, const char* seconds, std::size_t seconds_size) {
        const char* multi[] = {"MULTI"};
        const std::size_t multi_sizes[] = {5};
        const char* incr[] = {"INCRBY", key, "1"};
        const std::size_t incr_sizes[] = {6, key_size, 1};
        const char* expire[] = {"EXPIRE", key, seconds};
        const std::size_t expire_sizes[] = {6, key_size, seconds_size};
        const char* exec[] = {"EXEC"};
        const std::size_t exec_sizes[] = {4};
        redisAppendCommandArgv(context, 1, multi, multi_sizes);
        redisAppendCommandArgv(context, 3, incr, incr_sizes);
        redisAppendCommandArgv(context, 3, expire, expire_sizes);
        redisAppendCommandArgv(context, 1, exec, exec_sizes);
        std::int64_t result = 0;
        for (int i = 0; i < 4; ++i) {
            void* raw = nullptr;
            if (redisGetReply(context, &raw) != REDIS_OK) throw std::runtime_error("raw: I/O error");
            auto* reply = static_cast<redisReply*>(raw);
            if (i == 3 && reply->type == REDIS_REPLY_ARRAY && reply->elements == 2) result = reply->element[0]->integer;
            freeReplyObject(reply);
        }
        return result;
    }

    void run(op_case which) {
        char key[64];
        if (which == op_case::get) {
            const std::size_t n = encode(key, 1, key_text);
            const char* argv[] = {"GET", key};
            const std::size_t sizes[] = {3, n};
            redisReply* reply = call(2, argv, sizes);
            if (reply->type == REDIS_REPLY_STRING) {
                const std::string value(reply->str, reply->len);  // hotstate hands back a std::string too
                sink_bytes = sink_bytes + value.size();
            }
            freeReplyObject(reply);
        } else if (which == op_case::set_ttl) {
            const std::size_t n = encode(key, 1, key_text);
            const char* argv[] = {"SET", key, value_text.data(), "PX", "60000"};
            const std::size_t sizes[] = {3, n, value_text.size(), 2, 5};
            freeReplyObject(call(5, argv, sizes));
        } else if (which == op_case::incr) {
            const std::size_t n = encode(key, 2, "counter:1");
            const char* argv[] = {"INCRBY", key, "1"};
            const std::size_t sizes[] = {6, n, 1};
            redisReply* reply = call(3, argv, sizes);
            sink_bytes = sink_bytes + static_cast<std::size_t>(reply->integer);
            freeReplyObject(reply);
        } else if (which == op_case::incr_expire) {
            const std::size_t n = encode(key, 2, "counter:2");
            sink_bytes = sink_bytes + static_cast<std::size_t>(multi_incr_expire(key, n, "60", 2));
        } else if (which == op_case::rate_fixed) {
            // the seeds' limiter: bucket = prefix ++ key ++ be64(now / period), expiry = rest of the window
            const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count();
            const std::int64_t period = 60'000;
            const auto window = static_cast<std::uint64_t>(now_ms / period);
            std::size_t n = encode(key, 3, "sender");
            for (int shift = 56; shift >= 0; shift -= 8) key[n++] = static_cast<char>((window >> shift) & 0xff);
            char seconds[24];
            const auto left = ((now_ms / period + 1) * period - now_ms + 999) / 1000;
            const auto end = std::to_chars(seconds, seconds + sizeof seconds, left).ptr;
            const auto count = multi_incr_expire(key, n, seconds, static_cast<std::size_t>(end - seconds));
            sink_bytes = sink_bytes + static_cast<std::size_t>(count <= window_policy.limit);
        } else if (which == op_case::lock) {
            // not hotstate's key: its hash (kept for the fence) would make SET NX fail forever
            const std::size_t n = encode(key, 4, "job-raw");
            const char* acquire[] = {"SET", key, "1", "NX", "PX", "60000"};
            const std::size_t acquire_sizes[] = {3, n, 1, 2, 2, 5};
            redisReply* reply = call(6, acquire, acquire_sizes);
            const bool won = reply->type == REDIS_REPLY_STATUS;
            freeReplyObject(reply);
            if (won) {
                const char* release[] = {"DEL", key};
                const std::size_t release_sizes[] = {3, n};
                freeReplyObject(call(2, release, release_sizes));
            }
        } else if (which == op_case::lock_owner_checked) {
            // a random owner token per acquisition, as hotstate makes one
            const std::string token = hotstate::detail::random_token();
            const std::size_t n = encode(key, 4, "job-checked");
            const char* acquire[] = {"SET", key, token.data(), "NX", "PX", "60000"};
            const std::size_t acquire_sizes[] = {3, n, token.size(), 2, 2, 5};
            redisReply* reply = call(6, acquire, acquire_sizes);
            const bool won = reply->type == REDIS_REPLY_STATUS;
            freeReplyObject(reply);
            if (won) {
                const char* release[] = {"EVALSHA", checked_release_sha.data(), "1", key, token.data()};
                const std::size_t release_sizes[] = {7, checked_release_sha.size(), 1, n, token.size()};
                freeReplyObject(call(5, release, release_sizes));
            }
        } else {
            throw std::invalid_argument("unknown case");
        }
    }
};



// ---- the raw side with hotstate's request encoding ---------------------------
// The same hand-written loop, but encoding each command on the stack, sending
// it with send(MSG_NOSIGNAL) and letting hiredis read the reply, as hotstate's
// connection does: the difference to hotstate is then only the price of the
// layers (store, key encoding, pool, reply handling).

struct raw_formatted_side {
    redisContext* context;

    explicit raw_formatted_side(int port) {
        context = redisConnect("127.0.0.1", port);
        if (!context || context->err) throw std::runtime_error("raw: cannot connect");
    }
    ~raw_formatted_side() { redisFree(context); }

    redisReply* call(std::size_t argc, const char** argv, const std::size_t* lengths) {
        char buffer[512];
        const std::size_t size = hotstate::detail::redis::format_command(buffer, argc, argv, lengths);
        if (::send(context->fd, buffer, size, MSG_NOSIGNAL) != static_cast<::ssize_t>(size))
            throw std::runtime_error("raw: I/O error");
        void* raw = nullptr;
        if (redisGetReply(context, &raw) != REDIS_OK) throw std::runtime_error("raw: I/O error");
        return static_cast<redisReply*>(raw);
    }

    void run(op_case which) {
        char key[64];
        if (which == op_case::get) {
            const std::size_t n = raw_side::encode(key, 1, key_text);
            const char* argv[] = {"GET", key};
            const std::size_t sizes[] = {3, n};
            redisReply* reply = call(2, argv, sizes);
            if (reply->type == REDIS_REPLY_STRING) {
                const std::string value(reply->str, reply->len);
                sink_bytes = sink_bytes + value.size();
            }
            freeReplyObject(reply);
        } else if (which == op_case::set_ttl) {
            const std::size_t n = raw_side::encode(key, 1, key_text);
            const char* argv[] = {"SET", key, value_text.data(), "PX", "60000"};
            const std::size_t sizes[] = {3, n, value_text.size(), 2, 5};
            freeReplyObject(call(5, argv, sizes));
        } else if (which == op_case::incr) {
            const std::size_t n = raw_side::encode(key, 2, "counter:1");
            const char* argv[] = {"INCRBY", key, "1"};
            const std::size_t sizes[] = {6, n, 1};
            redisReply* reply = call(3, argv, sizes);
            sink_bytes = sink_bytes + static_cast<std::size_t>(reply->integer);
            freeReplyObject(reply);
        } else {
            throw std::invalid_argument("raw_formatted covers get, set_ttl and incr");
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

/// One side's `n` operations after a warm-up (connection, script load, first-use paths).
template <class Side>
void run_counted(int port, op_case which, std::size_t n) {
    Side side(port);
    side.run(which);
    for (std::size_t i = 0; i < n; ++i) side.run(which);
}

int count_mode(int port, std::string_view name, std::string_view side_name, std::size_t n) {
    prepare(port);
    const op_case which = parse_case(name);
    if (side_name == "hotstate") run_counted<hotstate_side>(port, which, n);
    else if (side_name == "compiled") run_counted<compiled_side>(port, which, n);
    else if (side_name == "raw_formatted") run_counted<raw_formatted_side>(port, which, n);
    else run_counted<raw_side>(port, which, n);
    return 0;
}

int throughput_mode(int port, int rounds, std::size_t ops, std::span<char* const> only) {
    prepare(port);
    hotstate_side hot(port);
    raw_side raw(port);
    for (const char* name : all_cases) {
        if (!only.empty() && std::find(only.begin(), only.end(), std::string_view(name)) == only.end()) continue;
        const op_case which = parse_case(name);
        hot.run(which);
        raw.run(which);
        hotstate::bench::compare_interleaved(std::string("throughput_") + name, rounds,
                                             [&] { return timed(hot, which, ops); },
                                             [&] { return timed(raw, which, ops); });
    }
    return 0;
}

// redis-benchmark's own figure for GET with 16 commands in flight on one connection
double redis_benchmark_rate(int port, std::size_t requests) {
    const std::string command = "redis-benchmark -h 127.0.0.1 -p " + std::to_string(port) + " -c 1 -P 16 -t get -n " +
                                std::to_string(requests) + " --csv 2>/dev/null";
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), &::pclose);
    if (!pipe) throw std::runtime_error("cannot run redis-benchmark");
    char line[512];
    double rate = 0;
    while (std::fgets(line, sizeof line, pipe.get())) {
        if (std::strncmp(line, "\"GET\",\"", 7) == 0) rate = std::strtod(line + 7, nullptr);
    }
    if (rate <= 0) throw std::runtime_error("could not read redis-benchmark's GET rate");
    return rate;
}

int batch_mode(int port, int rounds, std::size_t batches) {
    // redis-benchmark GETs the literal key "key:__rand_int__" (3-byte value): so do we,
    // under the category's prefix byte (a pipeline only reaches keys through a category)
    raw_side raw(port);
    const std::string plain_key = "key:__rand_int__";
    const std::string key = hotstate::encode_key<text>(plain_key);
    {
        const char* argv[] = {"SET", key.data(), "xxx"};
        const std::size_t sizes[] = {3, key.size(), 3};
        freeReplyObject(raw.call(3, argv, sizes));
    }
    hotstate::redis::config settings = hotstate_side::make_config(port);
    bench_store store(settings);
    namespace ops = hotstate::redis::ops;
    const ops::get<text> g{plain_key};
    const auto sixteen = [&] {
        auto results = store.pipeline(g, g, g, g, g, g, g, g, g, g, g, g, g, g, g, g);
        sink_bytes = sink_bytes + std::get<15>(results)->size();
    };
    sixteen();
    hotstate::bench::compare_interleaved(
        "throughput_batch16_vs_redis_benchmark", rounds,
        [&] {
            const auto start = std::chrono::steady_clock::now();
            for (std::size_t i = 0; i < batches; ++i) sixteen();
            return hotstate::bench::rate(batches * 16, std::chrono::steady_clock::now() - start);
        },
        [&] { return redis_benchmark_rate(port, batches * 16); });
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const std::string_view mode = argc > 1 ? argv[1] : "";
        if (mode == "free-port") return hotstate::bench::print_free_port();
        if (argc < 3) {
            std::fprintf(stderr, "usage: see the header of bench/redis/redis_bench.cpp\n");
            return 2;
        }
        const int port = std::atoi(argv[2]);
        if (mode == "count" && argc == 6)
            return count_mode(port, argv[3], argv[4], static_cast<std::size_t>(std::atol(argv[5])));
        if (mode == "throughput")
            return throughput_mode(port, argc > 3 ? std::atoi(argv[3]) : 21,
                                   argc > 4 ? static_cast<std::size_t>(std::atol(argv[4])) : 2000,
                                   std::span<char* const>(argv + std::min(argc, 5), argv + argc));
        if (mode == "batch")
            return batch_mode(port, argc > 3 ? std::atoi(argv[3]) : 21,
                              argc > 4 ? static_cast<std::size_t>(std::atol(argv[4])) : 2000);
        std::fprintf(stderr, "unknown mode\n");
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "redis_bench: %s\n", e.what());
        return 1;
    }
}
