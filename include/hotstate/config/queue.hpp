// hotstate/config/queue.hpp: the durable queues' options (queue_options) from
// JSON, beside the store's and the coordinator's objects.
//
//   {"inMemoryStore": {...},
//    "queues": {"lease": "30s", "maxAttempts": 5, "backoffBase": "1s", "backoffMax": "10m",
//               "jitter": 0.2, "waitReplicas": 1, "replicaTimeout": "1s"}}
//
//   auto queues = hotstate::load_queue_options(text, {.member = "queues"});
//   auto store_settings = hotstate::load_store_config<hotstate::backends::redis>(
//       text, {.member = "inMemoryStore", .queues = queues});   // validate_on_load checks the queues' commands
//   auto jobs = hotstate::queue<webhooks>(store, queues);
//
// Field names are the camelCase of queue_options' fields (Hana reflection, as
// every config); every field is optional and defaults to queue_options'
// default. Errors and their paths, lines and columns follow
// hotstate/json_config.hpp; the values job_queue would refuse (a zero lease,
// no attempts) are refused here with the field's path, as are a jitter outside
// 0..1 and a backoffMax shorter than backoffBase. The options have no server
// of their own, so validate_on_load is the store loader's (json_load_options::queues).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <boost/hana/accessors.hpp>
#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/length.hpp>

#include <hotstate/detail/config/reflect.hpp>
#include <hotstate/json_config.hpp>
#include <hotstate/queue.hpp>

BOOST_HANA_ADAPT_STRUCT(hotstate::queue_options, lease, max_attempts, backoff_base, backoff_max, jitter, wait_replicas,
                        replica_timeout);

namespace hotstate::detail::config {

/// Converts to any field type: counts an aggregate's fields by how many of it
/// the aggregate's braces take (its fields here are numbers and durations).
struct any_field {
    template <class T>
    constexpr operator T() const noexcept {
        return T{};
    }
};

/// How many fields the aggregate `T` has.
template <class T, class... Fields>
constexpr std::size_t aggregate_fields() noexcept {
    if constexpr (requires { T{Fields{}..., any_field{}}; })
        return aggregate_fields<T, Fields..., any_field>();
    else
        return sizeof...(Fields);
}

// queue_options is adapted from outside (above), so a field added to it would
// be missing from JSON without this: the adaptation must list every field.
static_assert(aggregate_fields<::hotstate::queue_options>() ==
                  decltype(boost::hana::length(boost::hana::accessors<::hotstate::queue_options>()))::value,
              "hotstate: queue_options has a field BOOST_HANA_ADAPT_STRUCT in hotstate/config/queue.hpp does not list");

/// job_queue's constructor requires an attempt, and a replica count is not negative.
template <>
struct ranges<::hotstate::queue_options> {
    static constexpr std::array<field_range, 2> fields{
        field_range{"max_attempts", 1, static_cast<std::uint64_t>(std::numeric_limits<int>::max())},
        field_range{"wait_replicas", 0, static_cast<std::uint64_t>(std::numeric_limits<int>::max())}};
};

/// What job_queue's constructor requires, and what makes the retry schedule sensible.
template <>
struct checks<::hotstate::queue_options> {
    static void run(const ::hotstate::queue_options& o, const reader& in, const json_path& object) {
        const auto at = [&](std::string_view name) {
            json_path path = object;
            path.emplace_back(std::string(name));
            return path;
        };
        if (o.lease.count() <= 0) in.fail(at("lease"), "must be longer than 0");
        if (o.backoff_max < o.backoff_base) in.fail(at("backoffMax"), "must not be shorter than backoffBase");
        if (!(o.jitter >= 0.0 && o.jitter <= 1.0)) in.fail(at("jitter"), "must be a fraction in 0..1");
        if (o.wait_replicas > 0 && o.replica_timeout.count() <= 0)
            in.fail(at("replicaTimeout"), "must be longer than 0 when waitReplicas is set");
    }
};

}  // namespace hotstate::detail::config

namespace hotstate {

/// Reads the queue options object of `json_text` (options.member, e.g.
/// "queues"; the whole document when empty). Throws errc::configuration with
/// the JSON path, line and column. options.validate_on_load has nothing to
/// connect to here: pass the result as json_load_options::queues to the
/// store's loader, which checks the queues' commands against the ACL.
[[nodiscard]] inline queue_options load_queue_options(std::string_view json_text, const json_load_options& options = {}) {
    namespace cfg = detail::config;
    const cfg::json document = cfg::parse(json_text, options.origin);
    const cfg::reader in(json_text, options.origin, options.check_files);
    cfg::json_path path;
    const cfg::json& object = in.member_or_whole(document, options.member, path);
    queue_options out{};
    in.read_object(out, object, path, {});
    return out;
}

/// `options` as the JSON object load_queue_options reads back, pretty-printed.
[[nodiscard]] inline std::string queue_options_to_json(const queue_options& options) {
    detail::config::json out = detail::config::json::object();
    detail::config::write_fields(out, options, detail::config::secret_output::masked);
    return out.dump(2);
}

}  // namespace hotstate
