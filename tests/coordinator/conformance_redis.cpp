// The transport laws over Redis pub/sub and Redis Streams on one
// redis-server started here (shared by the test cases, each on its own channel
// or stream). The server persists (append-only file), so the restart case finds
// the streams again, as a production Redis behind a durable transport would.
#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <hotstate/transports/redis_pubsub.hpp>
#include <hotstate/transports/redis_streams.hpp>

#include "laws/transport_model.hpp"
#include "support/redis_server.hpp"

namespace {

hotstate::testing::redis_server& shared_server() {
    static hotstate::testing::redis_server server({.persistence = true});
    return server;
}

hotstate::redis::config shared_config() {
    hotstate::redis::config settings;
    settings.url = shared_server().url();
    settings.node.timeout = std::chrono::seconds{2};
    return settings;
}

std::string fresh_name(std::string_view stem) {
    static std::atomic<int> counter{0};
    return "conformance:" + std::string(stem) + ":" + std::to_string(++counter);
}

struct redis_pubsub_fixture {
    using transport = hotstate::transports::redis_pubsub;
    std::string channel = fresh_name("pubsub");
    transport make(std::uint64_t) {
        hotstate::transports::redis_pubsub_options options;
        options.channel = channel;
        return transport(shared_config(), options);
    }
    static bool ready(transport& t) { return t.subscribed(); }
    void inject(std::string_view bytes) { shared_server().command({"PUBLISH", channel, bytes}); }
    void stop_server() { shared_server().stop(); }
    void start_server() { shared_server().start(); }
};

struct redis_streams_fixture {
    using transport = hotstate::transports::redis_streams;
    std::string stream = fresh_name("stream");
    std::string cursor_key(std::uint64_t node) const { return stream + ":cursor:" + std::to_string(node); }
    transport make(std::uint64_t node) {
        hotstate::transports::redis_streams_options options;
        options.stream = stream;
        options.cursor_key = cursor_key(node);
        options.block = std::chrono::milliseconds{200};
        return transport(shared_config(), options);
    }
    std::vector<std::string> worker_arguments(std::uint64_t node) const {
        return {"redis-streams", shared_server().url(), stream, cursor_key(node)};
    }
    static bool ready(transport& t) { return t.reading(); }
    void inject(std::string_view bytes) { make(999).send(bytes); }
    void stop_server() { shared_server().stop(); }
    void start_server() { shared_server().start(); }
};

}  // namespace

using hotstate_transport_models =
    std::tuple<laws::transport_model<redis_pubsub_fixture, laws::transport, laws::server_restart>,
               laws::transport_model<redis_streams_fixture, laws::transport, laws::durable, laws::server_restart>>;
#include "laws/transport.hpp"
