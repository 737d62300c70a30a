// The coordinator over JetStream on a real cluster: three nats-servers, a stream
// kept on all three (R3), and the server leading that stream SIGKILLed and
// started again while a publisher keeps publishing. Nothing may be lost, and
// nothing may reach a handler twice (the transport's contract while the nodes
// themselves run: the stream's duplicate window drops publishes sent again, the
// coordinator drops messages the server delivers again). The figures are printed.
#include <catch2/catch.hpp>

#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <hotstate/coordinator.hpp>
#include <hotstate/transports/nats_jetstream.hpp>

#include "redis_nodes.hpp"
#include "support/eventually.hpp"
#include "support/nats_cluster.hpp"

using namespace hotstate;
using coord_test::ping;
using coord_test::recorder;
using hotstate::testing::eventually;
using hotstate::testing::nats_cluster;

namespace {

using js_node = coordinator<transports::nats_jetstream, coord_test::pings>;
using clock_type = std::chrono::steady_clock;

/// What the cluster says about a stream, read on a connection of the test's own.
struct stream_view {
    bool found = false;
    std::int64_t replicas = 0;         ///< configured copies
    std::string leader;                ///< server name of the stream's leader; empty during an election
    std::size_t current_followers = 0; ///< followers that are caught up
    std::uint64_t messages = 0;
};

stream_view look_up_stream(const nats_cluster& cluster, const char* stream) {
    stream_view view;
    natsOptions* options = nullptr;
    natsConnection* nc = nullptr;
    if (natsOptions_Create(&options) != NATS_OK) return view;
    const auto servers = hotstate::detail::nats::server_list(cluster.url());
    std::vector<const char*> texts;
    for (const auto& server : servers) texts.push_back(server.c_str());
    natsOptions_SetServers(options, texts.data(), static_cast<int>(texts.size()));
    natsOptions_SetTimeout(options, 1000);
    if (natsConnection_Connect(&nc, options) == NATS_OK) {
        jsCtx* js = nullptr;
        jsOptions js_options;
        jsOptions_Init(&js_options);
        js_options.Wait = 1000;
        if (natsConnection_JetStream(&js, nc, &js_options) == NATS_OK) {
            jsStreamInfo* info = nullptr;
            jsErrCode code = static_cast<jsErrCode>(0);
            if (js_GetStreamInfo(&info, js, stream, nullptr, &code) == NATS_OK && info != nullptr) {
                view.found = true;
                view.replicas = info->Config->Replicas;
                view.messages = info->State.Msgs;
                if (info->Cluster != nullptr) {
                    if (info->Cluster->Leader != nullptr) view.leader = info->Cluster->Leader;
                    for (int i = 0; i < info->Cluster->ReplicasLen; ++i)
                        view.current_followers += info->Cluster->Replicas[i]->Current ? 1 : 0;
                }
                jsStreamInfo_Destroy(info);
            }
            jsCtx_Destroy(js);
        }
        natsConnection_Destroy(nc);
    }
    natsOptions_Destroy(options);
    return view;
}

transports::nats_jetstream_options replicated(std::string consumer) {
    transports::nats_jetstream_options options;
    options.stream = "CLUSTERED";
    options.subject = "cluster.durable";
    options.consumer = std::move(consumer);
    options.replicas = 3;
    options.ack_wait = std::chrono::seconds{2};
    options.publish_timeout = std::chrono::seconds{2};  // an election takes a few seconds: sends are retried
    return options;
}

std::unique_ptr<js_node> make_node(const nats_cluster& cluster, std::uint64_t id, recorder& box) {
    transports::nats_settings settings;
    settings.url = cluster.url();
    settings.reconnect_wait = std::chrono::milliseconds{50};
    auto node = std::make_unique<js_node>(
        coordinator_options{.node_id = id, .send_backoff = {std::chrono::milliseconds{20}, std::chrono::milliseconds{200}}},
        transports::nats_jetstream(settings, replicated("node-" + std::to_string(id))));
    box.attach(*node);
    node->start();
    const bool subscribed = eventually([&] { return node->transport().subscribed(); }, std::chrono::seconds{30});
    INFO("node " << id << ": " << node->transport().last_error());
    REQUIRE(subscribed);
    return node;
}

double seconds(clock_type::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

TEST_CASE("jetstream cluster: the stream's leader SIGKILLed and restarted while events flow: none lost, none twice",
          "[coordinator][nats][jetstream][cluster]") {
    nats_cluster cluster;
    recorder sender_box, receiver_box;
    auto sender = make_node(cluster, 1, sender_box);
    auto receiver = make_node(cluster, 2, receiver_box);
    const stream_view made = look_up_stream(cluster, "CLUSTERED");
    REQUIRE(made.found);
    REQUIRE(made.replicas == 3);
    REQUIRE(nats_cluster::index_of(made.leader) < nats_cluster::size);

    // one event per millisecond or so, from a thread of its own, until told to stop
    std::atomic<bool> publishing{true};
    std::atomic<std::uint64_t> published{0};
    std::thread publisher([&] {
        while (publishing.load()) {
            sender->publish(ping{1, published.load() + 1, ""});
            published.fetch_add(1);
            std::this_thread::sleep_for(std::chrono::milliseconds{1});  // the publishing pace, not a wait
        }
    });
    struct joiner {
        std::atomic<bool>& flag;
        std::thread& thread;
        ~joiner() {
            flag.store(false);
            if (thread.joinable()) thread.join();
        }
    } join_publisher{publishing, publisher};

    REQUIRE(eventually([&] { return receiver_box.count(1) >= 300; }, std::chrono::seconds{30}));
    const std::size_t victim = nats_cluster::index_of(look_up_stream(cluster, "CLUSTERED").leader);
    REQUIRE(victim < nats_cluster::size);
    const std::uint64_t published_at_kill = published.load();
    const std::size_t received_at_kill = receiver_box.count(1);
    const auto killed_at = clock_type::now();
    cluster.kill(victim);

    // the stream elects another leader on the two left, and events flow again
    REQUIRE(eventually([&] { return receiver_box.count(1) >= received_at_kill + 300; }, std::chrono::seconds{60}));
    const auto flowing_again = clock_type::now();
    const std::string new_leader = look_up_stream(cluster, "CLUSTERED").leader;
    // the new leader counts the killed server behind (so "caught up" below means something)
    REQUIRE(eventually([&] { return look_up_stream(cluster, "CLUSTERED").current_followers == 1; },
                       std::chrono::seconds{30}));

    cluster.start(victim);
    const auto restarted_at = clock_type::now();
    // the restarted server catches up: the leader counts both followers current again
    REQUIRE(eventually(
        [&] {
            const auto view = look_up_stream(cluster, "CLUSTERED");
            return !view.leader.empty() && view.current_followers == nats_cluster::size - 1;
        },
        std::chrono::seconds{60}));
    const auto caught_up = clock_type::now();
    const std::size_t received_at_restart = receiver_box.count(1);
    REQUIRE(eventually([&] { return receiver_box.count(1) >= received_at_restart + 300; }, std::chrono::seconds{60}));

    publishing.store(false);
    publisher.join();
    const std::uint64_t total = published.load();
    REQUIRE(sender->flush(std::chrono::seconds{60}));
    REQUIRE(eventually([&] { return receiver_box.count(1) >= total; }, std::chrono::seconds{60}));

    const auto got = receiver_box.from(1);
    std::uint64_t missing = 0, repeated = 0;
    {
        std::vector<int> times(total + 1, 0);
        for (const auto n : got)
            if (n >= 1 && n <= total) ++times[n];
        for (std::uint64_t n = 1; n <= total; ++n) {
            missing += times[n] == 0 ? 1 : 0;
            repeated += times[n] > 1 ? static_cast<std::uint64_t>(times[n] - 1) : 0;
        }
    }
    const auto sending = sender->stats();
    const auto receiving = receiver->stats();
    const auto sender_transport = sender->transport().stats();
    const auto receiver_transport = receiver->transport().stats();
    const stream_view end = look_up_stream(cluster, "CLUSTERED");
    std::printf(
        "jetstream cluster (3 servers, R3): killed %s (the stream's leader) after %llu events published; new leader "
        "%s; events flowing again %.2f s after the kill; restarted %.2f s after the kill, caught up %.2f s after its "
        "start\n"
        "  published %llu events in %llu messages; delivered to handlers %zu; lost %llu; twice %llu; gaps reported "
        "%zu\n"
        "  sender: %llu sends failed and were retried, %llu publishes found already stored (duplicate window), "
        "%llu messages dropped, %llu connections lost\n"
        "  receiver: %llu deliveries the server repeated, %llu dropped as duplicates before any handler, %llu "
        "connections lost; stream holds %llu messages\n",
        nats_cluster::name(victim).c_str(), static_cast<unsigned long long>(published_at_kill), new_leader.c_str(),
        seconds(flowing_again - killed_at), seconds(restarted_at - killed_at), seconds(caught_up - restarted_at),
        static_cast<unsigned long long>(total), static_cast<unsigned long long>(sending.sent_messages), got.size(),
        static_cast<unsigned long long>(missing), static_cast<unsigned long long>(repeated), receiver_box.all_gaps().size(),
        static_cast<unsigned long long>(sending.send_failures),
        static_cast<unsigned long long>(sender_transport.duplicates_stored),
        static_cast<unsigned long long>(sending.dropped_messages),
        static_cast<unsigned long long>(sender_transport.disconnects),
        static_cast<unsigned long long>(receiver_transport.redelivered),
        static_cast<unsigned long long>(receiving.duplicate_messages),
        static_cast<unsigned long long>(receiver_transport.disconnects), static_cast<unsigned long long>(end.messages));
    std::fflush(stdout);

    CHECK(missing == 0);
    CHECK(repeated == 0);
    CHECK(got.size() == total);
    CHECK(coord_test::strictly_increasing(got));
    CHECK(receiver_box.all_gaps().empty());
    CHECK(sending.dropped_messages == 0);
    CHECK(end.messages == sending.sent_messages);  // each message stored once
}
