// hotstate-doctor: checks a Redis deployment against what hotstate needs.
//
//   hotstate-doctor [--json] [--mailboxes N] [--queues] [--pings N] [--timeout D] [--member NAME]
//                   <redis-url | config.json>
//
// A URL is examined with its mode detected (standalone, cluster, sentinel); a
// JSON configuration file is loaded as hotstate loads it (its store object is
// the top-level object, or the member NAME, "inMemoryStore" when present) and
// the servers it names are examined with its credentials and TLS settings
// ("Redis", "RedisCluster", "Sentinel", or "Sharded" over such shards, each
// examined in turn). The file's "queues" object (queue
// options, hotstate/config/queue.hpp) makes missing persistence fail and adds
// the queues' commands to the ACL check; its "coordinator" object adds the
// transport's commands: on the store's servers for "Default", on its own
// servers (checked too, lines named "coordinator ...") for "Redis" and
// "RedisCluster". The
// transport is Redis Streams when the object has a streams field ("stream",
// "cursorKey", ...), pub/sub otherwise. --queues: queues with default options.
// --timeout D ("10s", "1500ms": the configuration's duration spelling) bounds
// connecting and each command on every server (default: the file's timeout,
// 10 s for a URL); a line that failed on a timeout states the one in use.
// Prints a table of PASS / WARN / FAIL lines (or --json) and exits 0 when
// everything passes, 1 with warnings, 2 with failures (and 2 on a usage or
// configuration error: the reason on stderr, or with --json a report on
// stdout whose one FAIL line, "usage" or "configuration", says it).
#include <cstdlib>
#include <iostream>
#include <string>
#include <string_view>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/backends/sharded.hpp>
#include <hotstate/config/coordinator.hpp>
#include <hotstate/config/queue.hpp>
#include <hotstate/detail/base/text.hpp>
#include <hotstate/doctor.hpp>
#include <hotstate/json_config.hpp>

namespace {

constexpr std::string_view usage =
    "usage: hotstate-doctor [--json] [--mailboxes N] [--queues] [--pings N] [--timeout D] [--member NAME] "
    "<redis-url | config.json>\n";

/// A failure before any server is examined (`check`: "usage" or
/// "configuration"): the reason on stderr, or a one-line report with --json,
/// so a caller reading JSON gets JSON whatever went wrong.
int refuse(bool json, std::string_view check, const std::string& reason, std::string_view rule) {
    if (json) {
        hotstate::doctor::report report{.mode = "unknown", .checks = {}};
        report.checks.push_back({"", std::string(check), hotstate::doctor::verdict::fail, reason, std::string(rule)});
        std::cout << report.json();
    } else {
        std::cerr << (check == "usage" ? std::string(usage) + "hotstate-doctor: " : std::string()) << reason << "\n";
    }
    return 2;
}

/// The coordinator object's transport: streams when it names a streams-only field, else pub/sub.
bool streams_transport(const hotstate::detail::config::json& object) {
    for (const char* field : {"stream", "maxLength", "cursorKey", "fromBeginning", "onInvalidCursor", "readCount", "block"})
        if (object.contains(field)) return true;
    return false;
}

template <class TransportOptions>
void add_coordinator(const std::string& text, const std::string& file, hotstate::doctor::options& options,
                     hotstate::doctor::report& coordinator_report) {
    const auto coordinator = hotstate::load_coordinator_config<TransportOptions>(
        text, {.member = "coordinator", .validate_on_load = false, .origin = file});
    if (!coordinator.connection && !coordinator.cluster) {
        // "Default": the transport runs on the store's servers
        options.transport = coordinator.transport;
        return;
    }
    // "Redis" or "RedisCluster": its own servers, examined with the transport's commands (and not the queues')
    hotstate::doctor::options own = options;
    own.transport = coordinator.transport;
    own.queues.reset();
    coordinator_report = coordinator.connection ? hotstate::doctor::examine(*coordinator.connection, own)
                                                : hotstate::doctor::examine(*coordinator.cluster, own);
    for (auto& line : coordinator_report.checks) line.name = "coordinator " + line.name;
}

hotstate::doctor::report examine_store(const std::string& text, const std::string& file, const std::string& member,
                                       const hotstate::doctor::options& options) {
    namespace cfg = hotstate::detail::config;
    const cfg::json document = cfg::parse(text, file);
    const cfg::json& object = member.empty() || !document.is_object() || !document.contains(member) ? document : document[member];
    const std::string type = object.is_object() && object.contains("@type") && object["@type"].is_string()
                                 ? object["@type"].get<std::string>()
                                 : std::string();
    const hotstate::json_load_options load{.member = member, .validate_on_load = false, .origin = file, .queues = {}};
    if (type == "RedisCluster")
        return hotstate::doctor::examine(hotstate::load_store_config<hotstate::backends::redis_cluster>(text, load), options);
    if (type == "Sharded") {
        // every shard, Redis, Redis Cluster or Sentinel, one after the other
        using sharded = hotstate::backends::sharded<hotstate::backends::redis, hotstate::backends::redis_cluster,
                                                    hotstate::backends::redis_sentinel>;
        const auto shards = hotstate::load_store_config<sharded>(text, load);
        hotstate::doctor::report all{.mode = "sharded", .checks = {}};
        const auto add = [&](const hotstate::doctor::report& one) {
            all.checks.insert(all.checks.end(), one.checks.begin(), one.checks.end());
        };
        for (const auto& shard : std::get<0>(shards)) add(hotstate::doctor::examine(shard, options));
        for (const auto& shard : std::get<1>(shards)) add(hotstate::doctor::examine(shard, options));
        for (const auto& shard : std::get<2>(shards)) add(hotstate::doctor::examine(shard, options));
        return all;
    }
    if (type == "Memory" || type == "Default") {
        // an embedded store: checked as the loader checks it, but no Redis server to examine
        if (type == "Memory") (void)hotstate::load_store_config<hotstate::backends::memory>(text, load);
#ifdef HOTSTATE_DETAIL_CONFIG_HAS_SQLITE
        if (type == "Default") (void)hotstate::load_store_config<hotstate::backends::sqlite>(text, load);
#endif
        hotstate::doctor::report embedded{.mode = "embedded", .checks = {}};
        embedded.checks.push_back({"", "mode", hotstate::doctor::verdict::pass,
                                   "embedded store (\"" + type + "\"): no Redis server to examine",
                                   "standalone, cluster or sentinel"});
        return embedded;
    }
    if (type == "Memcached")
        return hotstate::doctor::examine(hotstate::load_store_config<hotstate::backends::memcached>(text, load), options);
    if (type == "Sentinel")
        return hotstate::doctor::examine(hotstate::load_store_config<hotstate::backends::redis_sentinel>(text, load), options);
    // "Redis", and anything else: the loader names what is wrong
    return hotstate::doctor::examine(hotstate::load_store_config<hotstate::backends::redis>(text, load), options);
}

/// A configuration file: its store object ("inMemoryStore" when present, or
/// --member), its "queues" options and its "coordinator" object.
hotstate::doctor::report examine_file(const std::string& file, std::string member, hotstate::doctor::options& options) {
    namespace cfg = hotstate::detail::config;
    const std::string text = cfg::read_document(file);
    const cfg::json document = cfg::parse(text, file);
    if (member.empty() && document.is_object() && document.contains("inMemoryStore")) member = "inMemoryStore";
    if (member.empty() && !(document.is_object() && document.contains("@type")))
        throw hotstate::error(hotstate::errc::configuration,
                              std::string(cfg::error_prefix) + file +
                                  ": no store object: expected \"inMemoryStore\" (or --member NAME) or a top-level \"@type\"");
    if (document.is_object() && document.contains("queues"))
        options.queues = hotstate::load_queue_options(text, {.member = "queues", .validate_on_load = false, .origin = file});
    hotstate::doctor::report coordinator_report{.mode = "", .checks = {}};
    if (document.is_object() && document.contains("coordinator")) {
        if (streams_transport(document["coordinator"]))
            add_coordinator<hotstate::transports::redis_streams_options>(text, file, options, coordinator_report);
        else
            add_coordinator<hotstate::transports::redis_pubsub_options>(text, file, options, coordinator_report);
    }
    auto report = examine_store(text, file, member, options);
    report.checks.insert(report.checks.end(), coordinator_report.checks.begin(), coordinator_report.checks.end());
    return report;
}

}  // namespace

int main(int argc, char** argv) {
    hotstate::doctor::options options;
    bool json = false;
    for (int i = 1; i < argc; ++i) json = json || std::string_view(argv[i]) == "--json";
    std::string member;
    std::string target;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto value = [&]() -> std::string_view { return i + 1 < argc ? std::string_view(argv[++i]) : std::string_view(); };
        const auto count = [&]() { return hotstate::detail::parse_decimal<std::uint64_t>(value()); };
        const auto refused = [&](const std::string& reason) { return refuse(json, "usage", reason, usage.substr(0, usage.size() - 1)); };
        if (arg == "--json") {
        } else if (arg == "--queues") {
            options.queues = hotstate::queue_options{};
        } else if (arg == "--mailboxes") {
            const auto mailboxes = count();
            if (!mailboxes) return refused("--mailboxes needs a whole number");
            options.mailboxes = *mailboxes;
        } else if (arg == "--pings") {
            const auto pings = count();
            if (!pings || *pings == 0) return refused("--pings needs a whole number of at least 1");
            options.pings = static_cast<std::size_t>(*pings);
        } else if (arg == "--timeout") {
            const std::string text(value());
            const auto parsed = hotstate::detail::config::parse_duration(text);
            if (!parsed.value || parsed.value->count() <= 0)
                return refused("--timeout '" + text + "': " + (parsed.value ? "must be longer than 0" : parsed.problem));
            options.timeout = *parsed.value;
        } else if (arg == "--member") {
            member = std::string(value());
        } else if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            return 0;
        } else if (!arg.starts_with("--") && target.empty()) {
            target = std::string(arg);
        } else {
            return refused("unexpected argument '" + std::string(arg) + "'");
        }
    }
    if (target.empty()) return refuse(json, "usage", "no redis-url or config.json given", usage.substr(0, usage.size() - 1));
    try {
        const bool url = target.find("://") != std::string::npos;
        const auto report = url ? hotstate::doctor::examine_url(target, options) : examine_file(target, member, options);
        std::cout << (json ? report.json() : report.table());
        return report.exit_code();
    } catch (const hotstate::error& failure) {
        return refuse(json, "configuration", failure.message(), "a configuration that loads");
    }
}
