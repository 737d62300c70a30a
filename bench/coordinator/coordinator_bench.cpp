// The coordinator's Redis transports against a raw hiredis PUBLISH/SUBSCRIBE
// pair, on one server, and its NATS transports against a raw libnats
// publish/subscribe pair on one nats-server, in one process, sides
// interleaved (A B A B ...).
//
//   coordinator_bench <redis port, 0: none> [rounds] [events] [nats port]
//
// Throughput: one node publishes `events` small events as fast as publish()
// accepts them; the rate is events / time until the other node has received
// them all. The raw side PUBLISHes each event with redisCommandArgv and waits
// for its reply (what a hand-written loop does), a raw subscriber thread
// counts them. Prints `RATIO coordinator_<transport>_throughput` = median of
// per-round hotstate/raw. pub/sub runs twice: send_mode::background (publish
// queues, the sender thread batches) and send_mode::caller_when_idle (an idle
// coordinator sends on the caller's thread).
//
// Latency: 10,000 events/s for one second per round; each event carries its
// steady_clock send time and the receiving handler (or raw subscriber) takes
// the difference. Prints p50/p99 per side over all rounds and
// `RATIO coordinator_<transport>_p99_latency` = median per-round hotstate/raw
// p99 (lower is better); each round's percentiles are printed too, since one
// scheduling hiccup on a busy machine moves a pooled p99.
// NATS (with a nats port, in a build with hotstate::nats): transports::nats and
// nats_jetstream against a raw loop of natsConnection_Publish and a
// natsConnection_Subscribe callback (what a hand-written core NATS program
// does). JetStream runs three ways in one run: `_async` (max_outstanding_publishes
// = 256; each ack written before the next message), the default (each publish
// acknowledged before the next; acks written, not confirmed) and `_sync`
// (confirm_acks too: one round trip per publish and per ack, the transport's
// behaviour before these options), so one run shows before and after. Against raw core NATS its ratio prices
// durability (nats_jetstream_vs_core, nats_jetstream_sync_vs_core); against a raw
// JetStream loop with the same guarantees (async publish with 256 pending and
// Ack, resp. sync publish and AckSync; durable consumer) it prices hotstate.
// bench/coordinator/run.sh starts the servers and runs this.
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <boost/hana/define_struct.hpp>
#include <hiredis/hiredis.h>

#include <hotstate/coordinator.hpp>
#include <hotstate/transports/redis_pubsub.hpp>
#include <hotstate/transports/redis_streams.hpp>

#if HOTSTATE_BENCH_NATS
#include <nats/nats.h>

#include <hotstate/transports/nats.hpp>
#include <hotstate/transports/nats_jetstream.hpp>
#endif

#include "support/interleave.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

struct tick {
    BOOST_HANA_DEFINE_STRUCT(tick,
        (std::uint64_t, sent_ns),
        (std::uint64_t, n));
};
using ticks = hotstate::channel<"bench-tick", tick>;

std::uint64_t now_ns() {
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count());
}

bool wait_until(const std::atomic<std::uint64_t>& counter, std::uint64_t target, std::chrono::seconds deadline = 30s) {
    const auto until = steady::now() + deadline;
    while (counter.load(std::memory_order_acquire) < target) {
        if (steady::now() > until) return false;
        std::this_thread::yield();
    }
    return true;
}

/// Latency samples (ns), appended by one receive thread, read after the round.
struct samples {
    std::mutex mutex;
    std::vector<std::uint64_t> values;
    void add(std::uint64_t v) {
        std::lock_guard lock(mutex);
        values.push_back(v);
    }
    std::vector<std::uint64_t> take() {
        std::lock_guard lock(mutex);
        return std::exchange(values, {});
    }
};

double percentile(std::vector<std::uint64_t> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto index = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    return static_cast<double>(v[index]) / 1000.0;  // microseconds
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const auto n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/// Receives events; counts them, records latency when asked.
struct receiver_state {
    std::atomic<std::uint64_t> received{0};
    std::atomic<bool> record{false};
    samples latencies;
    void on(std::uint64_t sent_ns) {
        if (record.load(std::memory_order_relaxed)) latencies.add(now_ns() - sent_ns);
        received.fetch_add(1, std::memory_order_release);
    }
};

// ---- the raw hiredis pair ---------------------------------------------------------------

class raw_pair {
public:
    raw_pair(int port, std::string channel) : channel_(std::move(channel)) {
        pub_ = redisConnect("127.0.0.1", port);
        sub_ = redisConnect("127.0.0.1", port);
        if (!pub_ || pub_->err || !sub_ || sub_->err) throw std::runtime_error("raw_pair: connect failed");
        auto* r = static_cast<redisReply*>(redisCommand(sub_, "SUBSCRIBE %b", channel_.data(), channel_.size()));
        if (!r) throw std::runtime_error("raw_pair: SUBSCRIBE failed");
        freeReplyObject(r);
        reader_ = std::thread([this] {
            void* raw = nullptr;
            while (redisGetReply(sub_, &raw) == REDIS_OK && raw) {
                auto* reply = static_cast<redisReply*>(raw);
                if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 && reply->element[2]->len >= 8) {
                    std::uint64_t sent = 0;
                    std::memcpy(&sent, reply->element[2]->str, 8);
                    state.on(sent);
                }
                freeReplyObject(reply);
            }
        });
    }
    ~raw_pair() {
        ::shutdown(sub_->fd, SHUT_RDWR);
        reader_.join();
        redisFree(sub_);
        redisFree(pub_);
    }

    void publish(std::uint64_t n) {
        char payload[16];
        const std::uint64_t sent = now_ns();
        std::memcpy(payload, &sent, 8);
        std::memcpy(payload + 8, &n, 8);
        const char* argv[] = {"PUBLISH", channel_.data(), payload};
        const std::size_t lengths[] = {7, channel_.size(), sizeof payload};
        auto* r = static_cast<redisReply*>(redisCommandArgv(pub_, 3, argv, lengths));
        if (!r) throw std::runtime_error("raw_pair: PUBLISH failed");
        freeReplyObject(r);
    }

    receiver_state state;

private:
    std::string channel_;
    redisContext* pub_ = nullptr;
    redisContext* sub_ = nullptr;
    std::thread reader_;
};

#if HOTSTATE_BENCH_NATS
// ---- the raw libnats pair -----------------------------------------------------------------

class raw_nats_pair {
public:
    raw_nats_pair(int port, std::string subject) : subject_(std::move(subject)) {
        const std::string url = "nats://127.0.0.1:" + std::to_string(port);
        if (natsConnection_ConnectTo(&pub_, url.c_str()) != NATS_OK ||
            natsConnection_ConnectTo(&sub_conn_, url.c_str()) != NATS_OK)
            throw std::runtime_error("raw_nats_pair: connect failed");
        if (natsConnection_Subscribe(&sub_, sub_conn_, subject_.c_str(), &raw_nats_pair::on_message, this) != NATS_OK ||
            natsConnection_Flush(sub_conn_) != NATS_OK)
            throw std::runtime_error("raw_nats_pair: subscribe failed");
    }
    ~raw_nats_pair() {
        natsSubscription_Unsubscribe(sub_);
        natsSubscription_Destroy(sub_);
        natsConnection_Destroy(sub_conn_);
        natsConnection_Destroy(pub_);
    }

    void publish(std::uint64_t n) {
        char payload[16];
        const std::uint64_t sent = now_ns();
        std::memcpy(payload, &sent, 8);
        std::memcpy(payload + 8, &n, 8);
        if (natsConnection_Publish(pub_, subject_.c_str(), payload, sizeof payload) != NATS_OK)
            throw std::runtime_error("raw_nats_pair: publish failed");
    }

    receiver_state state;

private:
    static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
        auto* self = static_cast<raw_nats_pair*>(closure);
        if (natsMsg_GetDataLength(msg) >= 8) {
            std::uint64_t sent = 0;
            std::memcpy(&sent, natsMsg_GetData(msg), 8);
            self->state.on(sent);
        }
        natsMsg_Destroy(msg);
    }

    std::string subject_;
    natsConnection* pub_ = nullptr;
    natsConnection* sub_conn_ = nullptr;
    natsSubscription* sub_ = nullptr;
};

/// A hand-written durable loop. Synchronous: a JetStream publish per event that waits for
/// the stream's ack, and a durable push consumer that confirms each ack (AckSync).
/// Asynchronous: js_PublishAsync with at most 256 awaiting their ack, and natsMsg_Ack on
/// a connection that sends at once. The guarantees of transports::nats_jetstream with
/// max_outstanding_publishes = 1 and confirm_acks, resp. with its defaults.
class raw_jetstream_pair {
public:
    raw_jetstream_pair(int port, std::string subject, bool asynchronous, const std::string& durable)
        : subject_(std::move(subject)), async_(asynchronous) {
        const std::string url = "nats://127.0.0.1:" + std::to_string(port);
        natsOptions* connection_options = nullptr;
        if (natsOptions_Create(&connection_options) != NATS_OK ||
            natsOptions_SetURL(connection_options, url.c_str()) != NATS_OK ||
            natsOptions_SetSendAsap(connection_options, true) != NATS_OK)
            throw std::runtime_error("raw_jetstream_pair: options");
        jsOptions js_options;
        jsOptions_Init(&js_options);
        js_options.PublishAsync.MaxPending = 256;
        const bool connected = natsConnection_Connect(&pub_, connection_options) == NATS_OK &&
                               natsConnection_Connect(&sub_conn_, connection_options) == NATS_OK;
        natsOptions_Destroy(connection_options);
        if (!connected || natsConnection_JetStream(&js_pub_, pub_, &js_options) != NATS_OK ||
            natsConnection_JetStream(&js_sub_, sub_conn_, nullptr) != NATS_OK)
            throw std::runtime_error("raw_jetstream_pair: connect failed");
        jsStreamConfig config;
        jsStreamConfig_Init(&config);
        const std::string stream = async_ ? "BENCH_RAW_ASYNC" : "BENCH_RAW";
        config.Name = stream.c_str();
        const char* subjects[] = {subject_.c_str()};
        config.Subjects = subjects;
        config.SubjectsLen = 1;
        config.Storage = js_FileStorage;
        jsErrCode code = static_cast<jsErrCode>(0);
        if (js_AddStream(nullptr, js_pub_, &config, nullptr, &code) != NATS_OK && code != JSStreamNameExistErr)
            throw std::runtime_error("raw_jetstream_pair: stream");
        jsSubOptions options;
        jsSubOptions_Init(&options);
        options.ManualAck = true;
        options.Config.Durable = durable.c_str();
        options.Config.AckPolicy = js_AckExplicit;
        options.Config.DeliverPolicy = js_DeliverNew;
        if (js_Subscribe(&sub_, js_sub_, subject_.c_str(), &raw_jetstream_pair::on_message, this, nullptr, &options,
                         &code) != NATS_OK)
            throw std::runtime_error("raw_jetstream_pair: subscribe");
    }
    ~raw_jetstream_pair() {
        natsSubscription_Destroy(sub_);
        jsCtx_Destroy(js_sub_);
        jsCtx_Destroy(js_pub_);
        natsConnection_Destroy(sub_conn_);
        natsConnection_Destroy(pub_);
    }

    void publish(std::uint64_t n) {
        char payload[16];
        const std::uint64_t sent = now_ns();
        std::memcpy(payload, &sent, 8);
        std::memcpy(payload + 8, &n, 8);
        if (async_) {
            if (js_PublishAsync(js_pub_, subject_.c_str(), payload, sizeof payload, nullptr) != NATS_OK)
                throw std::runtime_error("raw_jetstream_pair: publish failed");
            return;
        }
        jsPubAck* ack = nullptr;
        if (js_Publish(&ack, js_pub_, subject_.c_str(), payload, sizeof payload, nullptr, nullptr) != NATS_OK)
            throw std::runtime_error("raw_jetstream_pair: publish failed");
        jsPubAck_Destroy(ack);
    }

    receiver_state state;

private:
    static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
        auto* self = static_cast<raw_jetstream_pair*>(closure);
        if (natsMsg_GetDataLength(msg) >= 8) {
            std::uint64_t sent = 0;
            std::memcpy(&sent, natsMsg_GetData(msg), 8);
            self->state.on(sent);
        }
        if (self->async_)
            natsMsg_Ack(msg, nullptr);
        else
            natsMsg_AckSync(msg, nullptr, nullptr);
        natsMsg_Destroy(msg);
    }

    std::string subject_;
    bool async_;
    natsConnection* pub_ = nullptr;
    natsConnection* sub_conn_ = nullptr;
    jsCtx* js_pub_ = nullptr;
    jsCtx* js_sub_ = nullptr;
    natsSubscription* sub_ = nullptr;
};
#endif

// ---- hotstate pairs ---------------------------------------------------------------------

template <class Transport>
class hotstate_pair {
public:
    using node = hotstate::coordinator<Transport, ticks>;

    hotstate_pair(Transport a, Transport b,
                  hotstate::coordinator_options::send_mode mode = hotstate::coordinator_options::send_mode::background)
        : sender_(std::make_unique<node>(hotstate::coordinator_options{.node_id = 1, .sending = mode}, std::move(a))),
          receiver_(std::make_unique<node>(hotstate::coordinator_options{.node_id = 2}, std::move(b))) {
        receiver_->template subscribe<tick>([this](const tick& t) { state.on(t.sent_ns); });
        receiver_->start();
        sender_->start();
    }

    void publish(std::uint64_t n) { sender_->publish(tick{now_ns(), n}); }
    node& sender() { return *sender_; }
    node& receiver() { return *receiver_; }

    receiver_state state;

private:
    std::unique_ptr<node> sender_;
    std::unique_ptr<node> receiver_;
};

template <class Pair>
double throughput_round(Pair& pair, std::uint64_t events) {
    const std::uint64_t target = pair.state.received.load() + events;
    const auto start = steady::now();
    for (std::uint64_t n = 0; n < events; ++n) pair.publish(n);
    if (!wait_until(pair.state.received, target)) {
        std::fprintf(stderr, "throughput round: events lost (%llu of %llu)\n",
                     static_cast<unsigned long long>(pair.state.received.load() - (target - events)),
                     static_cast<unsigned long long>(events));
        std::exit(1);
    }
    return hotstate::bench::rate(events, steady::now() - start);
}

/// 10k events/s for `span`; returns the latency samples of the round.
template <class Pair>
std::vector<std::uint64_t> latency_round(Pair& pair, std::chrono::milliseconds span, std::uint64_t per_second) {
    const auto period = std::chrono::nanoseconds(1'000'000'000 / per_second);
    const std::uint64_t events = static_cast<std::uint64_t>(span.count()) * per_second / 1000;
    const std::uint64_t target = pair.state.received.load() + events;
    pair.state.record = true;
    auto next = steady::now();
    for (std::uint64_t n = 0; n < events; ++n) {
        std::this_thread::sleep_until(next);
        pair.publish(n);
        next += period;
    }
    const bool complete = wait_until(pair.state.received, target);
    pair.state.record = false;
    if (!complete) {
        std::fprintf(stderr, "latency round: events lost\n");
        std::exit(1);
    }
    return pair.state.latencies.take();
}

template <class Pair, class Raw>
void compare(const char* name, Pair& hot, Raw& raw, int rounds, std::uint64_t events, const char* raw_name = "hiredis") {
    // warm up both (connections, allocations)
    throughput_round(hot, 1000);
    throughput_round(raw, 1000);

    hotstate::bench::compare_interleaved(std::string("coordinator_") + name + "_throughput", rounds,
                                         [&] { return throughput_round(hot, events); },
                                         [&] { return throughput_round(raw, events); });

    std::vector<std::uint64_t> hot_all, raw_all;
    std::vector<double> ratios;
    for (int round = 0; round < rounds; ++round) {
        std::vector<std::uint64_t> h, r;
        if (round % 2 == 0) {
            h = latency_round(hot, 1000ms, 10000);
            r = latency_round(raw, 1000ms, 10000);
        } else {
            r = latency_round(raw, 1000ms, 10000);
            h = latency_round(hot, 1000ms, 10000);
        }
        ratios.push_back(percentile(h, 0.99) / percentile(r, 0.99));
        std::printf("  round %d %s at 10k/s: hotstate p50 %.1f us p99 %.1f us | raw p50 %.1f us p99 %.1f us\n", round,
                    name, percentile(h, 0.5), percentile(h, 0.99), percentile(r, 0.5), percentile(r, 0.99));
        hot_all.insert(hot_all.end(), h.begin(), h.end());
        raw_all.insert(raw_all.end(), r.begin(), r.end());
    }
    std::printf("LATENCY coordinator_%s at 10k/s: hotstate p50 %.1f us p99 %.1f us | raw %s p50 %.1f us p99 %.1f us\n",
                name, percentile(hot_all, 0.5), percentile(hot_all, 0.99), raw_name, percentile(raw_all, 0.5),
                percentile(raw_all, 0.99));
    std::printf("RATIO coordinator_%s_p99_latency %.3f\n", name, median(ratios));
    const auto stats = hot.sender().stats();
    std::printf("BATCHING coordinator_%s: %llu events in %llu messages\n", name,
                static_cast<unsigned long long>(stats.published_events),
                static_cast<unsigned long long>(stats.sent_messages));
    std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: coordinator_bench <redis port> [rounds] [events] [nats port]\n");
        return 2;
    }
    const int port = std::atoi(argv[1]);
    const int rounds = argc > 2 ? std::atoi(argv[2]) : 5;
    const std::uint64_t events = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 20000;

    hotstate::redis::config settings;
    settings.url = "redis://127.0.0.1:" + std::to_string(port);

    if (port != 0) {  // 0: NATS only
        raw_pair raw(port, "bench:raw");
        {
            hotstate::transports::redis_pubsub_options options;
            options.channel = "bench:pubsub";
            hotstate_pair<hotstate::transports::redis_pubsub> hot(hotstate::transports::redis_pubsub(settings, options),
                                                                  hotstate::transports::redis_pubsub(settings, options));
            while (!hot.receiver().transport().subscribed()) std::this_thread::yield();
            compare("pubsub", hot, raw, rounds, events);
        }
        {
            hotstate::transports::redis_pubsub_options options;
            options.channel = "bench:pubsub-inline";
            hotstate_pair<hotstate::transports::redis_pubsub> hot(hotstate::transports::redis_pubsub(settings, options),
                                                                  hotstate::transports::redis_pubsub(settings, options),
                                                                  hotstate::coordinator_options::send_mode::caller_when_idle);
            while (!hot.receiver().transport().subscribed()) std::this_thread::yield();
            compare("pubsub_caller_when_idle", hot, raw, rounds, events);
        }
        {
            hotstate::transports::redis_streams_options options;
            options.stream = "bench:stream";
            hotstate_pair<hotstate::transports::redis_streams> hot(hotstate::transports::redis_streams(settings, options),
                                                                   hotstate::transports::redis_streams(settings, options));
            while (!hot.receiver().transport().reading()) std::this_thread::yield();
            compare("streams", hot, raw, rounds, events);
        }
        {
            // the receiver keeps a cursor key: one save per handled message, pipelined with the next XREAD
            hotstate::transports::redis_streams_options options;
            options.stream = "bench:stream-cursor";
            auto with_cursor = options;
            with_cursor.cursor_key = "bench:stream-cursor:receiver";
            hotstate_pair<hotstate::transports::redis_streams> hot(hotstate::transports::redis_streams(settings, options),
                                                                   hotstate::transports::redis_streams(settings, with_cursor));
            while (!hot.receiver().transport().reading()) std::this_thread::yield();
            compare("streams_cursor", hot, raw, rounds, events);
        }
    }
#if HOTSTATE_BENCH_NATS
    if (argc > 4) {
        const int nats_port = std::atoi(argv[4]);
        hotstate::transports::nats_settings nats;
        nats.url = "nats://127.0.0.1:" + std::to_string(nats_port);
        nats.connect_on_start = true;
        raw_nats_pair raw_nats(nats_port, "bench.raw");
        {
            hotstate::transports::nats_options options{.subject = "bench.core"};
            hotstate_pair<hotstate::transports::nats> hot(hotstate::transports::nats(nats, options),
                                                          hotstate::transports::nats(nats, options));
            while (!hot.receiver().transport().subscribed()) std::this_thread::yield();
            compare("nats", hot, raw_nats, rounds, events, "libnats");
        }
        for (const int variant : {0, 1, 2}) {  // async, default, sync (before)
            const bool synchronous = variant != 0;
            hotstate::transports::nats_jetstream_options options;
            options.stream = variant == 0 ? "BENCH_ASYNC" : variant == 1 ? "BENCH" : "BENCH_SYNC";
            options.subject = variant == 0 ? "bench.durable-async" : variant == 1 ? "bench.durable" : "bench.durable-sync";
            options.max_outstanding_publishes = variant == 0 ? 256 : 1;
            options.confirm_acks = variant == 2;
            auto receiver = options;
            options.consumer = "sender";
            receiver.consumer = "receiver";
            hotstate_pair<hotstate::transports::nats_jetstream> hot(
                hotstate::transports::nats_jetstream(nats, options), hotstate::transports::nats_jetstream(nats, receiver));
            while (!hot.receiver().transport().subscribed()) std::this_thread::yield();
            const std::string name =
                variant == 0 ? "nats_jetstream_async" : variant == 1 ? "nats_jetstream" : "nats_jetstream_sync";
            compare((name + "_vs_core").c_str(), hot, raw_nats, rounds, events, "libnats core");
            raw_jetstream_pair raw_js(nats_port, synchronous ? "bench.rawdurable" : "bench.rawdurable-async",
                                      !synchronous, "raw-" + name);
            compare(name.c_str(), hot, raw_js, rounds, events,
                    synchronous ? "libnats JetStream sync" : "libnats JetStream async");
            const auto js_stats = hot.sender().transport().stats();
            std::printf("JETSTREAM %s: %llu publish failures, %llu sent again, %llu duplicates stored\n", name.c_str(),
                        static_cast<unsigned long long>(js_stats.publish_failures),
                        static_cast<unsigned long long>(js_stats.republished),
                        static_cast<unsigned long long>(js_stats.duplicates_stored));
        }
    }
#endif
    return 0;
}
