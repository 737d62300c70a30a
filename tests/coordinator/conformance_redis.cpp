// The transport laws over Redis pub/sub and Redis Streams on one
// redis-server started here (shared by the test cases, each on its own channel
// or stream). The server persists (append-only file), so the restart case finds
// the streams again, as a production Redis behind a durable transport would.
#include <chrono>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <hotstate/transports/redis_pubsub.hpp>
#include <hotstate/transports/redis_streams.hpp>

#include "laws/transport_model.hpp"
#include "support/redis_server.hpp"
#include "support/redis_settings.hpp"

namespace {

hotstate::testing::redis_server& shared_server() {
    static hotstate::testing::redis_server server({.persistence = true});
    return server;
}

hotstate::redis::config shared_config() { return hotstate::testing::transport_config(shared_server().url()); }

struct redis_pubsub_fixture : laws::transport_fixture<hotstate::transports::redis_pubsub> {
    redis_pubsub_fixture() : transport_fixture("pubsub") {}
    transport make(std::uint64_t) {
        hotstate::transports::redis_pubsub_options options;
        options.channel = name;
        return transport(shared_config(), options);
    }
    void inject(std::string_view bytes) { shared_server().command({"PUBLISH", name, bytes}); }
    void stop_server() { shared_server().stop(); }
    void start_server() { shared_server().start(); }
};

struct redis_streams_fixture : laws::transport_fixture<hotstate::transports::redis_streams> {
    redis_streams_fixture() : transport_fixture("stream") {}
    std::string cursor_key(std::uint64_t node) const { return name + ":cursor:" + std::to_string(node); }
    transport make(std::uint64_t node) {
        hotstate::transports::redis_streams_options options;
        options.stream = name;
        options.cursor_key = cursor_key(node);
        options.block = std::chrono::milliseconds{200};
        return transport(shared_config(), options);
    }
    std::vector<std::string> worker_arguments(std::uint64_t node) const {
        return {"redis-streams", shared_server().url(), name, cursor_key(node)};
    }
    void inject(std::string_view bytes) { make(999).send(bytes); }
    void stop_server() { shared_server().stop(); }
    void start_server() { shared_server().start(); }
};

}  // namespace

using hotstate_transport_models =
    std::tuple<laws::transport_model<redis_pubsub_fixture, laws::transport, laws::server_restart>,
               laws::transport_model<redis_streams_fixture, laws::transport, laws::durable, laws::server_restart>>;
#include "laws/transport.hpp"
