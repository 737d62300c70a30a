// hotstate/detail/config/transport_commands.hpp: the coordinator transports'
// part of the one list of commands hotstate sends (sent_commands.hpp), for
// the config loader's validate_on_load and hotstate-doctor alike.
#pragma once

#include <string>
#include <vector>

#include <hotstate/detail/config/sent_commands.hpp>
#include <hotstate/transports/redis_pubsub.hpp>
#include <hotstate/transports/redis_streams.hpp>

namespace hotstate::detail::config {

/// What the pub/sub transport sends besides the store's commands (PING on the subscription included).
[[nodiscard]] inline std::vector<sent_command> transport_commands(const ::hotstate::transports::redis_pubsub_options& o,
                                                                  server_role = server_role::standalone) {
    return {{{"PUBLISH", o.channel, "m"}}, {{"SUBSCRIBE", o.channel}}, {{"PING"}}};
}

/// What the streams transport sends besides the store's commands: XADD, XREAD,
/// XINFO on its stream, and GET/SET of its cursor key when it has one (with
/// XRANGE of the cursor's entry, which a start checks it names).
[[nodiscard]] inline std::vector<sent_command> transport_commands(const ::hotstate::transports::redis_streams_options& o,
                                                                  server_role = server_role::standalone) {
    std::vector<sent_command> out = {{{"XADD", o.stream, "MAXLEN", "~", "1", "*", "f", "v"}},
                                     {{"XREAD", "COUNT", "1", "BLOCK", "1", "STREAMS", o.stream, "0"}},
                                     {{"XINFO", "STREAM", o.stream}},
                                     {{"PING"}}};
    if (!o.cursor_key.empty()) {
        out.push_back({{"GET", o.cursor_key}});
        out.push_back({{"SET", o.cursor_key, "0-0"}});
        out.push_back({{"XRANGE", o.stream, "0-1", "0-1", "COUNT", "1"}});
    }
    return out;
}

/// `options`' transport as a capability (capabilities::transport).
template <class TransportOptions>
[[nodiscard]] std::function<std::vector<sent_command>(server_role)> transport_use(TransportOptions options) {
    return [options = std::move(options)](server_role role) { return transport_commands(options, role); };
}

}  // namespace hotstate::detail::config
