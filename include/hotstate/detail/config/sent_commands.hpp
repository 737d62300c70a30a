// hotstate/detail/config/sent_commands.hpp: what hotstate sends to a server,
// one list per capability a configuration turns on: the store backend
// (store_commands), durable queues (queue_commands) and the coordinator's
// transport (transport_commands, in transport_commands.hpp). commands_sent
// joins them for one server; validate_on_load and hotstate-doctor both ask
// the server's ACL about exactly that list, so neither can miss what the other
// checks.
//
// Every command comes with harmless arguments that have the command's arity
// (ACL DRYRUN checks it) and touch a probe key in hotstate's keyspace. The
// commands Lua scripts call are listed too: Redis checks each redis.call
// against the ACL when the script runs. tests/doctor/rules_test.cpp checks
// these lists against the scripts' text, so a script that starts calling a
// new command fails that test until the command is listed here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <hotstate/queue.hpp>

namespace hotstate::detail::config {

/// The role a server plays for hotstate, which decides what it is sent.
enum class server_role : std::uint8_t {
    standalone,  ///< redis backend (and the coordinator's transports on it)
    cluster,     ///< a Redis Cluster node
    master,      ///< the master a sentinel names
};

/// A command hotstate sends, with harmless arguments for probing it.
struct sent_command {
    std::vector<std::string> argv;
};

/// A key in category 0's keyspace: what a user restricted to hotstate's keys may touch.
inline const std::string probe_key = std::string(1, '\0') + "hotstate:acl-probe";

/// Every command the store sends to a server in `role` (its scripts' redis.calls included).
[[nodiscard]] inline std::vector<sent_command> store_commands(server_role role, bool read_from_replicas = false,
                                                              bool select_db = false) {
    const std::string& k = probe_key;
    std::vector<sent_command> out = {
        {{"PING"}},
        {{"GET", k}},
        {{"SET", k, "v", "PX", "1000", "NX"}},
        {{"GETDEL", k}},
        {{"INCRBY", k, "1"}},
        {{"PEXPIRE", k, "1000"}},
        {{"UNLINK", k}},
        {{"DEL", k}},
        {{"EXISTS", k}},
        {{"SCAN", "0", "MATCH", "x*", "COUNT", "10"}},
        {{"SADD", k, "m"}},
        {{"SREM", k, "m"}},
        {{"SISMEMBER", k, "m"}},
        {{"HSET", k, "f", "v"}},
        {{"HGET", k, "f"}},
        {{"HMGET", k, "f", "g"}},
        {{"HDEL", k, "f"}},
        {{"HEXISTS", k, "f"}},
        {{"HGETALL", k}},
        {{"HLEN", k}},
        {{"TIME"}},
        {{"EVAL", "return 1", "1", k}},
        {{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", k}},
        {{"SCRIPT", "LOAD", "return 1"}},
        {{"MULTI"}},
        {{"EXEC"}},
    };
    if (select_db) out.push_back({{"SELECT", "0"}});
    if (role == server_role::cluster) {
        out.push_back({{"CLUSTER", "SLOTS"}});
        out.push_back({{"ASKING"}});
        if (read_from_replicas) out.push_back({{"READONLY"}});
    }
    if (role == server_role::master) out.push_back({{"ROLE"}});
    return out;
}

/// Every command durable queues with `options` send (their scripts' redis.calls
/// included), on a key of a queue's hash-tagged keyspace.
[[nodiscard]] inline std::vector<sent_command> queue_commands(const ::hotstate::queue_options& options) {
    const std::string k = "{" + probe_key + "}w";
    std::vector<sent_command> out = {
        {{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "1", k}},
        {{"EVAL", "return 1", "1", k}},
        {{"BLPOP", k, "1"}},
        {{"EXISTS", k}},
        {{"DEL", k}},
        {{"HDEL", k, "f"}},
        {{"HEXISTS", k, "f"}},
        {{"HGET", k, "f"}},
        {{"HLEN", k}},
        {{"HMGET", k, "f", "g"}},
        {{"HSET", k, "f", "v"}},
        {{"HSETNX", k, "f", "v"}},
        {{"HINCRBY", k, "f", "1"}},
        {{"INCR", k}},
        {{"INCRBY", k, "1"}},
        {{"LLEN", k}},
        {{"LPOP", k}},
        {{"LPUSH", k, "1"}},
        {{"LTRIM", k, "0", "1"}},
        {{"RPUSH", k, "1"}},
        {{"ZADD", k, "1", "m"}},
        {{"ZCARD", k}},
        {{"ZRANGE", k, "0", "1"}},
        {{"ZRANGEBYSCORE", k, "0", "1"}},
        {{"ZREM", k, "m"}},
        {{"ZSCORE", k, "m"}},
    };
    if (options.wait_replicas > 0) out.push_back({{"WAIT", "1", "1"}});
    return out;
}

/// What a configuration turns on besides the store, for one server.
struct capabilities {
    /// Durable queues run on the store, with these options.
    std::optional<::hotstate::queue_options> queues{};
    /// The coordinator's transport runs on this server: its commands by the
    /// server's role (see transport_commands.hpp); empty when it does not.
    std::function<std::vector<sent_command>(server_role)> transport{};
};

/// The one list: everything hotstate sends to a server in `role`, given what is configured.
[[nodiscard]] inline std::vector<sent_command> commands_sent(server_role role, bool read_from_replicas, bool select_db,
                                                             const capabilities& with) {
    auto out = store_commands(role, read_from_replicas, select_db);
    const auto add = [&](const std::vector<sent_command>& more) { out.insert(out.end(), more.begin(), more.end()); };
    if (with.queues) add(queue_commands(*with.queues));
    if (with.transport) add(with.transport(role));
    return out;
}

}  // namespace hotstate::detail::config
