// The transport laws over the three Redis Cluster transports, on one
// 3-master/3-replica cluster started here (shared by the test cases, each on
// its own channel or stream). The fixtures have no stop_server/start_server,
// so the server restart law does not run here: the cluster is shared by the whole
// binary, runs without persistence, and a restart of all six nodes would have to
// re-form the cluster. A cluster's equivalent, a master failing over (and a
// killed node), is what tests/cluster/ covers for these transports.
#include <chrono>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include <hotstate/transports/redis_cluster_pubsub.hpp>
#include <hotstate/transports/redis_cluster_sharded_pubsub.hpp>
#include <hotstate/transports/redis_cluster_streams.hpp>

#include "cluster/cluster_fixture.hpp"
#include "laws/transport_model.hpp"

namespace {

using namespace std::chrono_literals;

hotstate::redis::cluster_config settings() {
    auto result = shared_cluster_config();
    result.node.timeout = 2s;
    return result;
}

/// A pub/sub transport of the cluster on a channel of its own; bytes are injected through a node of its own.
template <class T>
struct cluster_channel_fixture : laws::transport_fixture<T> {
    using laws::transport_fixture<T>::transport_fixture;
    T make(std::uint64_t) {
        hotstate::transports::redis_pubsub_options options;
        options.channel = this->name;
        if constexpr (std::is_same_v<T, hotstate::transports::redis_cluster_pubsub>)
            return T(hotstate::detail::redis::link::cluster_link(settings(), this->name), options);
        else return hotstate::transports::make_redis_cluster_sharded_pubsub(settings(), options);
    }
    void inject(std::string_view bytes) { make(999).send(bytes); }
};

struct cluster_pubsub_fixture : cluster_channel_fixture<hotstate::transports::redis_cluster_pubsub> {
    cluster_pubsub_fixture() : cluster_channel_fixture("cluster-pubsub") {}
};

struct cluster_sharded_pubsub_fixture : cluster_channel_fixture<hotstate::transports::redis_cluster_sharded_pubsub> {
    cluster_sharded_pubsub_fixture() : cluster_channel_fixture("cluster-sharded") {}
};

struct cluster_streams_fixture : laws::transport_fixture<hotstate::transports::redis_cluster_streams> {
    cluster_streams_fixture() : transport_fixture("cluster-stream") {}
    std::string tag = "{" + name + "}";
    transport make(std::uint64_t node) {
        hotstate::transports::redis_streams_options options;
        options.stream = tag + ":stream";
        options.cursor_key = tag + ":cursor:" + std::to_string(node);
        options.block = 200ms;
        return hotstate::transports::make_redis_cluster_streams(settings(), options);
    }
    std::vector<std::string> worker_arguments(std::uint64_t node) const {
        return {"cluster-streams", settings().urls.at(0), tag + ":stream", tag + ":cursor:" + std::to_string(node)};
    }
    void inject(std::string_view bytes) { make(999).send(bytes); }
};

}  // namespace

using hotstate_transport_models =
    std::tuple<laws::transport_model<cluster_pubsub_fixture, laws::transport>,
               laws::transport_model<cluster_sharded_pubsub_fixture, laws::transport>,
               laws::transport_model<cluster_streams_fixture, laws::transport, laws::durable>>;
#include "laws/transport.hpp"
