// The transport laws over core NATS and JetStream on one
// nats-server started here (shared by the test cases, each on its own subject
// and stream).
#include <chrono>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <hotstate/transports/nats.hpp>
#include <hotstate/transports/nats_jetstream.hpp>

#include "laws/transport_model.hpp"
#include "support/nats_server.hpp"

namespace {

hotstate::testing::nats_server& shared_server() {
    static hotstate::testing::nats_server server;
    return server;
}

hotstate::transports::nats_settings shared_settings() {
    hotstate::transports::nats_settings settings;
    settings.url = shared_server().url();
    settings.connect_on_start = true;  // so a node sends as soon as it exists
    settings.reconnect_wait = std::chrono::milliseconds{50};  // back soon after a server restart
    return settings;
}

struct nats_fixture : laws::transport_fixture<hotstate::transports::nats> {
    nats_fixture() : transport_fixture("core", '.') {}
    transport make(std::uint64_t) { return transport(shared_settings(), {.subject = name}); }
    void inject(std::string_view bytes) {
        transport raw = make(999);
        raw.send(bytes);
        raw.flush();
    }
    void stop_server() { shared_server().stop(); }
    void start_server() { shared_server().start(); }
};

struct nats_jetstream_fixture : laws::transport_fixture<hotstate::transports::nats_jetstream> {
    nats_jetstream_fixture() : transport_fixture("js", '.') {}
    std::int64_t window = 1;  // max_outstanding_publishes
    std::string stream() const { return "CONFORMANCE_" + name.substr(name.rfind('.') + 1); }
    transport make(std::uint64_t node) {
        hotstate::transports::nats_jetstream_options options;
        options.max_outstanding_publishes = window;
        options.stream = stream();
        options.subject = name;
        options.consumer = "node-" + std::to_string(node);
        return transport(shared_settings(), options);
    }
    std::vector<std::string> worker_arguments(std::uint64_t node) const {
        return {"jetstream", shared_server().url(), stream(), name, "node-" + std::to_string(node)};
    }
    void inject(std::string_view bytes) { make(999).send(bytes); }
    void stop_server() { shared_server().stop(); }
    void start_server() { shared_server().start(); }
};

/// nats_jetstream with asynchronous publishes (256 awaiting the stream at once).
struct nats_jetstream_async_fixture : nats_jetstream_fixture {
    nats_jetstream_async_fixture() { window = 256; }
};

}  // namespace

using hotstate_transport_models = std::tuple<
    laws::transport_model<nats_fixture, laws::transport, laws::server_restart>,
    laws::transport_model<nats_jetstream_fixture, laws::transport, laws::durable, laws::server_restart>,
    laws::transport_model<nats_jetstream_async_fixture, laws::transport, laws::durable, laws::server_restart>>;
#include "laws/transport.hpp"
