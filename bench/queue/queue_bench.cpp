// hotstate's job queue against an unreliable raw hiredis queue (LPUSH/BRPOP:
// no lease, no retry, a job popped by a worker that dies is gone) on the same
// server, interleaved round by round; memory- and SQLite-backend figures beside.
//
//   queue_bench <port> [rounds] [jobs]
//
// Cases (RATIO = hotstate / raw throughput, median of per-round ratios):
//   queue_enqueue         enqueue one job per round trip  vs LPUSH
//   queue_claim_ack_1     a worker's loop, 1 thread: claim once, then
//                         ack_and_claim (one round trip per job) vs BRPOP, 1 thread
//   queue_claim_ack_4     the same with 4 worker threads  vs BRPOP, 4 threads
//   queue_claim_then_ack_1  claim + ack as two calls, 1 thread vs BRPOP, 1 thread
//   queue_bulk_100        enqueue_bulk of 100             vs 100 LPUSH pipelined
// After each case, a FIGURE line gives the server's microseconds per call of
// each side's command (INFO commandstats: EVALSHA vs LPUSH / BRPOP), so the
// server's share and the client's share of the gap can be told apart.
#include <unistd.h>  // rmdir

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <hiredis/hiredis.h>

#include <hotstate/queue/memory_queue.hpp>
#include <hotstate/queue/redis_queue.hpp>
#include <hotstate/queue/sqlite_queue.hpp>

#include "support/interleave.hpp"

namespace {

using namespace std::chrono_literals;

struct jobs : hotstate::queue_category<80, "bench-jobs"> {};
using redis_store = hotstate::store<hotstate::backends::redis, jobs>;
using memory_store = hotstate::store<hotstate::backends::memory, jobs>;
using sqlite_store = hotstate::store<hotstate::backends::sqlite, jobs>;
const std::string payload(64, 'j');
const char* const raw_list = "bench:raw-queue";

struct raw_client {
    redisContext* c;
    explicit raw_client(int port) : c(redisConnect("127.0.0.1", port)) {
        if (!c || c->err) {
            std::fprintf(stderr, "cannot connect\n");
            std::exit(1);
        }
    }
    ~raw_client() { redisFree(c); }
    void run(std::initializer_list<std::string> args) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lens;
        for (const auto& a : args) {
            argv.push_back(a.data());
            lens.push_back(a.size());
        }
        auto* r = static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
        if (!r) std::exit(1);
        freeReplyObject(r);
    }
};

template <class F>
double rate(int n, F&& body) {
    const auto start = std::chrono::steady_clock::now();
    body();
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    return n / took.count();
}

/// claim + ack as two calls per job.
template <class Q>
double claim_then_ack(Q& q, int n, int threads) {
    return rate(n, [&] {
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&] {
                for (int i = 0; i < n / threads; ++i) {
                    auto job = q.claim(1s);
                    if (!job) return;
                    q.ack(*job);
                }
            });
        for (auto& w : workers) w.join();
    });
}

/// A worker's loop: claim once, then each ack claims the next job.
template <class Q>
double claim_ack(Q& q, int n, int threads) {
    return rate(n, [&] {
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&] {
                auto job = q.claim(1s);
                for (int i = 1; job && i < n / threads; ++i) job = q.ack_and_claim(*job, 1s).next;
                if (job) q.ack(*job);
            });
        for (auto& w : workers) w.join();
    });
}

/// Prints the server's usec_per_call of `commands` since the last CONFIG RESETSTAT, and resets.
void server_share(redisContext* c, const std::string& name, std::initializer_list<const char*> commands) {
    auto* r = static_cast<redisReply*>(redisCommand(c, "INFO commandstats"));
    if (r && r->type == REDIS_REPLY_STRING) {
        const std::string info(r->str, r->len);
        for (const char* command : commands) {
            const std::string tag = std::string("cmdstat_") + command + ":";
            const auto at = info.find(tag);
            if (at == std::string::npos) continue;
            const auto per = info.find("usec_per_call=", at);
            std::printf("FIGURE %s_server_usec_per_%s %.2f\n", name.c_str(), command,
                        std::atof(info.c_str() + per + 14));
        }
    }
    freeReplyObject(r);
    freeReplyObject(redisCommand(c, "CONFIG RESETSTAT"));
}

double raw_claim(int port, int n, int threads) {
    return rate(n, [&] {
        std::vector<std::thread> workers;
        for (int t = 0; t < threads; ++t)
            workers.emplace_back([&] {
                raw_client raw(port);
                for (int i = 0; i < n / threads; ++i) raw.run({"BRPOP", raw_list, "1"});
            });
        for (auto& w : workers) w.join();
    });
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: queue_bench <port> [rounds] [jobs]\n");
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 7;
    const int n = argc > 3 ? std::atoi(argv[3]) : 4000;
    hotstate::redis::config settings{.url = "redis://127.0.0.1:" + std::to_string(port)};
    settings.node.pool_max_connections = 8;
    redis_store store(settings);
    auto q = hotstate::queue<jobs>(store);
    raw_client raw(port);

    freeReplyObject(redisCommand(raw.c, "CONFIG RESETSTAT"));
    hotstate::bench::compare_interleaved(
        "queue_enqueue", rounds, [&] { return rate(n, [&] { for (int i = 0; i < n; ++i) q.enqueue(payload); }); },
        [&] { return rate(n, [&] { for (int i = 0; i < n; ++i) raw.run({"LPUSH", raw_list, payload}); }); });
    server_share(raw.c, "queue_enqueue", {"evalsha", "lpush"});
    q.purge();
    raw.run({"DEL", raw_list});

    for (int threads : {1, 4, 0}) {  // 0: claim then ack, 1 thread
        const std::string name = threads == 0 ? "queue_claim_then_ack_1" : "queue_claim_ack_" + std::to_string(threads);
        freeReplyObject(redisCommand(raw.c, "CONFIG RESETSTAT"));
        hotstate::bench::compare_interleaved(
            name, rounds,
            [&] {
                std::vector<std::string> batch(static_cast<std::size_t>(n), payload);
                q.enqueue_bulk(batch);
                return threads == 0 ? claim_then_ack(q, n, 1) : claim_ack(q, n, threads);
            },
            [&] {
                for (int i = 0; i < n; ++i) raw.run({"LPUSH", raw_list, payload});
                return raw_claim(port, n, threads == 0 ? 1 : threads);
            });
        server_share(raw.c, name, {"evalsha", "brpop"});
        q.purge();
        raw.run({"DEL", raw_list});
    }

    const int batches = std::max(1, n / 100);
    std::vector<std::string> hundred(100, payload);
    freeReplyObject(redisCommand(raw.c, "CONFIG RESETSTAT"));
    hotstate::bench::compare_interleaved(
        "queue_bulk_100", rounds,
        [&] { return rate(batches * 100, [&] { for (int b = 0; b < batches; ++b) q.enqueue_bulk(hundred); }); },
        [&] {
            return rate(batches * 100, [&] {
                for (int b = 0; b < batches; ++b) {
                    for (int i = 0; i < 100; ++i) redisAppendCommand(raw.c, "LPUSH %s %b", raw_list, payload.data(), payload.size());
                    for (int i = 0; i < 100; ++i) {
                        void* r = nullptr;
                        if (redisGetReply(raw.c, &r) != REDIS_OK) std::exit(1);
                        freeReplyObject(r);
                    }
                }
            });
        });
    server_share(raw.c, "queue_bulk_100", {"evalsha", "lpush"});
    q.purge();
    raw.run({"DEL", raw_list});

    // the embedded backend, for scale (no network)
    memory_store mem;
    auto mq = hotstate::queue<jobs>(mem);
    const double mem_enqueue = rate(n * 10, [&] { for (int i = 0; i < n * 10; ++i) mq.enqueue(payload); });
    const double mem_claim = claim_ack(mq, n * 10, 1);
    std::printf("FIGURE queue_memory_enqueue %.0f ops/s\nFIGURE queue_memory_claim_ack_1 %.0f ops/s\n", mem_enqueue,
                mem_claim);

    // the SQLite backend (a file, default synchronous = NORMAL: no commit lost
    // when the process dies), the single node without Redis
    char dir_template[] = "/tmp/hotstate-bench-queue-sqlite-XXXXXX";
    if (const char* dir = mkdtemp(dir_template)) {
        const std::string file = std::string(dir) + "/queue.db";
        {
            sqlite_store lite(hotstate::backends::sqlite_config{.path = file});
            auto sq = hotstate::queue<jobs>(lite);
            const double sq_enqueue = rate(n, [&] { for (int i = 0; i < n; ++i) sq.enqueue(payload); });
            const double sq_claim_1 = claim_ack(sq, n, 1);
            for (int b = 0; b < batches; ++b) sq.enqueue_bulk(hundred);
            const double sq_claim_4 = claim_ack(sq, batches * 100, 4);
            const double sq_bulk = rate(batches * 100, [&] { for (int b = 0; b < batches; ++b) sq.enqueue_bulk(hundred); });
            std::printf("FIGURE queue_sqlite_enqueue %.0f ops/s\nFIGURE queue_sqlite_claim_ack_1 %.0f ops/s\n"
                        "FIGURE queue_sqlite_claim_ack_4 %.0f ops/s\nFIGURE queue_sqlite_bulk_100 %.0f jobs/s\n",
                        sq_enqueue, sq_claim_1, sq_claim_4, sq_bulk);
        }
        for (const char* leftover : {"/queue.db", "/queue.db-wal", "/queue.db-shm"})
            std::remove((std::string(dir) + leftover).c_str());
        rmdir(dir);
    }
    return 0;
}
