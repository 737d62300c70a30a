// Webhook deliveries through a durable job queue on Redis, run by a worker
// pool: what a mail server does when a message is delivered or bounced and
// its customers' endpoints must hear about it, even if the process dies.
//
//   1. The mail path enqueues one webhook per event, deduplicated by event id
//      (a retried SMTP transaction enqueues nothing twice).
//   2. A pool of 4 worker threads delivers them; an endpoint answering "503"
//      (the flaky one, on each webhook's first try) fails the job, which is
//      retried with exponential backoff and jitter; an endpoint
//      that never answers is dead-lettered after max_attempts with its error.
//   3. A graceful stop: no new claims, jobs in flight finish or are given back.
//   4. An operator fixes the endpoint and requeues the dead letters; a second
//      pool delivers them.
//
// The HTTP call is simulated (the example needs no web server): post() below.
//
//   webhook_queue redis://host:port
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include <boost/hana/define_struct.hpp>

#include <hotstate/queue/redis_queue.hpp>
#include <hotstate/queue/worker_pool.hpp>

using namespace std::chrono_literals;

struct webhook_job {
    BOOST_HANA_DEFINE_STRUCT(webhook_job, (std::string, url), (std::string, event), (std::string, message_id));
};
struct webhooks : hotstate::queue_category<60, "webhooks", webhook_job> {};
using app_store = hotstate::store<hotstate::backends::redis, webhooks>;

/// The simulated endpoints: who answered what, and how often each was called.
class endpoints {
public:
    /// POSTs `job` to its URL: throws (as an HTTP client would) unless the endpoint answers 2xx.
    void post(const webhook_job& job) {
        std::scoped_lock guard(mutex_);
        ++calls_[job.url];
        const int attempt = ++calls_[job.url + " " + job.message_id];
        changed_.notify_all();
        if (job.url.find("flaky") != std::string::npos && attempt == 1)
            throw std::runtime_error("HTTP 503 from " + job.url);  // busy the first time: try again later
        if (job.url.find("broken") != std::string::npos && !fixed_)
            throw std::runtime_error("connect timeout to " + job.url);
        ++delivered_;
    }
    void fix_broken() {
        std::scoped_lock guard(mutex_);
        fixed_ = true;
    }
    /// Waits (up to `deadline`) until `count` webhooks were delivered in all.
    bool wait_delivered(int count, std::chrono::milliseconds deadline) {
        std::unique_lock guard(mutex_);
        return changed_.wait_for(guard, deadline, [&] { return delivered_ >= count; });
    }
    /// Waits (up to `deadline`) until `url` was called `count` times.
    bool wait_calls(const std::string& url, int count, std::chrono::milliseconds deadline) {
        std::unique_lock guard(mutex_);
        return changed_.wait_for(guard, deadline, [&] { return calls_[url] >= count; });
    }

private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::map<std::string, int> calls_;
    int delivered_ = 0;
    bool fixed_ = false;
};

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: webhook_queue redis://host:port\n");
        return 2;
    }
    app_store store(hotstate::redis::config{.url = argv[argc - 1]});
    const hotstate::queue_options options{.lease = 30s, .max_attempts = 3, .backoff_base = 20ms,
                                          .backoff_max = 200ms, .jitter = 0.2};
    auto jobs = hotstate::queue<webhooks>(store, options);
    jobs.purge();  // a fresh start for the example
    bool as_expected = true;

    // 1. the mail path: one webhook per event, deduplicated by event id
    const char* urls[] = {"https://crm.example/hooks", "https://flaky.example/hooks", "https://broken.example/hooks"};
    int enqueued = 0;
    for (int message = 1; message <= 10; ++message) {
        const std::string id = "msg-" + std::to_string(message);
        for (const char* url : urls) {
            const auto added = jobs.enqueue({.url = url, .event = "delivered", .message_id = id},
                                            {.id = std::string(url) + "|delivered|" + id});
            enqueued += added.enqueued;
        }
    }
    const auto again = jobs.enqueue({.url = urls[0], .event = "delivered", .message_id = "msg-1"},
                                    {.id = std::string(urls[0]) + "|delivered|msg-1"});
    std::printf("enqueued %d webhooks; the retried event was %s\n", enqueued,
                again.enqueued ? "ENQUEUED TWICE (UNEXPECTED)" : "deduplicated");
    as_expected = as_expected && enqueued == 30 && !again.enqueued;

    // 2. four workers deliver; flaky endpoints are retried, the broken one is dead-lettered
    endpoints web;
    {
        hotstate::worker_pool pool(jobs, [&](const webhook_job& job) { web.post(job); },
                                   {.threads = 4, .heartbeat_every = 5s, .claim_wait = 100ms});
        const bool delivered = web.wait_delivered(20, 30s);  // crm and flaky: 10 each
        // the broken endpoint's 10 jobs fail 3 times each (max_attempts), with backoff
        const bool tried = web.wait_calls(urls[2], 30, 30s);
        // 3. graceful stop: the last failures settle (to the dead letters) before it returns
        const auto report = pool.stop(5s);
        std::printf("first pool: %s 20 delivered, %llu failed attempts, stop finished %zu and released %zu\n",
                    delivered ? "all" : "NOT", static_cast<unsigned long long>(pool.failed()), report.finished,
                    report.released);
        as_expected = as_expected && delivered && tried;
    }
    const auto dead = jobs.dead();
    std::printf("dead letters: %zu", dead.size());
    if (!dead.empty()) std::printf(" (e.g. after %lld attempts: %s)", static_cast<long long>(dead[0].attempts),
                                   dead[0].last_error.c_str());
    std::printf("\n");
    as_expected = as_expected && dead.size() == 10 && dead[0].attempts == 3;

    // 4. the operator fixes the endpoint and requeues the dead letters
    web.fix_broken();
    const auto requeued = jobs.requeue_all_dead();
    {
        hotstate::worker_pool pool(jobs, [&](const webhook_job& job) { web.post(job); }, {.threads = 4});
        const bool delivered = web.wait_delivered(30, 30s);
        (void)pool.stop(5s);
        std::printf("requeued %llu; second pool delivered %s\n", static_cast<unsigned long long>(requeued),
                    delivered ? "them all" : "NOT ALL");
        as_expected = as_expected && requeued == 10 && delivered;
    }
    const auto left = jobs.counts();
    as_expected = as_expected && left.waiting + left.delayed + left.active + left.dead == 0;
    std::printf("webhook queue: %s\n", as_expected ? "as expected" : "UNEXPECTED");
    return as_expected ? 0 : 1;
}
