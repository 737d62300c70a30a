// The queues' options from JSON: a good object, a table of bad ones with the
// exact error each gives, and every field's round trip (random values through
// the same Hana field list the loader uses).
#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include <hotstate/config/queue.hpp>

using namespace std::chrono_literals;

namespace {

std::string error_loading(const std::string& text, const std::string& member = "queues") {
    try {
        (void)hotstate::load_queue_options(text, {.member = member, .validate_on_load = false});
    } catch (const hotstate::error& failure) {
        CHECK(failure.kind() == hotstate::errc::configuration);
        return failure.message();
    }
    return "";
}

}  // namespace

TEST_CASE("the queues object loads into queue_options; what it leaves out keeps the default", "[config_json]") {
    const auto options = hotstate::load_queue_options(R"({
        "inMemoryStore": {"@type": "Redis", "url": "redis://redis.example.com:6379"},
        "queues": {"lease": "45s", "maxAttempts": 8, "backoffBase": "500ms", "backoffMax": "5m",
                   "jitter": 0.5, "waitReplicas": 1, "replicaTimeout": "250ms"}
    })", {.member = "queues", .validate_on_load = false});
    CHECK(options.lease == 45s);
    CHECK(options.max_attempts == 8);
    CHECK(options.backoff_base == 500ms);
    CHECK(options.backoff_max == 5min);
    CHECK(options.jitter == 0.5);
    CHECK(options.wait_replicas == 1);
    CHECK(options.replica_timeout == 250ms);

    const auto defaults = hotstate::load_queue_options(R"({"queues": {"lease": "1m"}})", {.member = "queues", .validate_on_load = false});
    CHECK(defaults.lease == 1min);
    CHECK(defaults.max_attempts == hotstate::queue_options{}.max_attempts);
    CHECK(defaults.jitter == hotstate::queue_options{}.jitter);
}

TEST_CASE("bad queues objects give the exact error", "[config_json]") {
    const std::vector<std::pair<std::string, std::string>> table = {
        {R"({"queues": {"leese": "30s"}})",
         "queues.leese (line 1, column 13): unknown field 'leese'; did you mean 'lease'?"},
        {R"({"queues": {"lease": "30 s"}})",
         "queues.lease (line 1, column 22): bad duration '30 s': no space is allowed between the number and the unit"},
        {R"({"queues": {"lease": "-1s"}})", "queues.lease (line 1, column 22): bad duration '-1s': must not be negative"},
        {R"({"queues": {"lease": "10x"}})", "queues.lease (line 1, column 22): bad duration '10x': unknown unit (expected ms, s, m, h or d)"},
        {R"({"queues": {"lease": "0s"}})", "queues.lease (line 1, column 22): must be longer than 0"},
        {R"({"queues": {"maxAttempts": 0}})", "queues.maxAttempts (line 1, column 28): must be a whole number in 1..2147483647, got 0"},
        {R"({"queues": {"maxAttempts": "5"}})", "queues.maxAttempts (line 1, column 28): must be a whole number in 1..2147483647, got a string"},
        {R"({"queues": {"maxAttempts": 2.5}})",
         "queues.maxAttempts (line 1, column 28): must be a whole number in 1..2147483647, got 2.5"},
        {R"({"queues": {"waitReplicas": 4294967296}})",
         "queues.waitReplicas (line 1, column 29): must be a whole number in 0..2147483647, got 4294967296"},
        {R"({"queues": {"waitReplicas": -1}})", "queues.waitReplicas (line 1, column 29): must be a whole number in 0..2147483647, got -1"},
        {R"({"queues": {"jitter": 1.5}})", "queues.jitter (line 1, column 23): must be a fraction in 0..1"},
        {R"({"queues": {"jitter": "0.2"}})", "queues.jitter (line 1, column 23): expected a number, got a string"},
        {R"({"queues": {"backoffBase": "2m", "backoffMax": "1m"}})",
         "queues.backoffMax (line 1, column 48): must not be shorter than backoffBase"},
        {R"({"queues": {"waitReplicas": 1, "replicaTimeout": "0ms"}})",
         "queues.replicaTimeout (line 1, column 50): must be longer than 0 when waitReplicas is set"},
        {R"({"queues": []})", "queues (line 1, column 12): expected an object, got an array"},
        {R"({"inMemoryStore": {}})", "(document) (line 1, column 1): missing required field 'queues'"},
    };
    for (const auto& [document, expected] : table) {
        INFO(document);
        CHECK(error_loading(document) == "hotstate: configuration: " + expected);
    }
}

TEST_CASE("every queue option round-trips JSON -> struct -> JSON", "[config_json]") {
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        INFO("seed " << seed);
        std::mt19937_64 random(seed);
        hotstate::queue_options original;
        // every field through the Hana field list, so a new field is covered without editing this test
        boost::hana::for_each(boost::hana::accessors<hotstate::queue_options>(), [&](auto field) {
            auto& member = boost::hana::second(field)(original);
            using T = std::remove_cvref_t<decltype(member)>;
            if constexpr (std::is_floating_point_v<T>)
                member = static_cast<T>(random() % 1001) / 1000.0;  // 0..1, as the check wants
            else if constexpr (std::is_integral_v<T>)
                member = static_cast<T>(1 + random() % 1000);
            else
                member = T{static_cast<typename T::rep>(1 + random() % 100000000)};
        });
        if (original.backoff_max < original.backoff_base) std::swap(original.backoff_max, original.backoff_base);
        const std::string text = hotstate::queue_options_to_json(original);
        INFO(text);
        const auto loaded = hotstate::load_queue_options(text, {.validate_on_load = false});
        boost::hana::for_each(boost::hana::accessors<hotstate::queue_options>(), [&](auto field) {
            INFO(boost::hana::to<const char*>(boost::hana::first(field)));
            CHECK(boost::hana::second(field)(loaded) == boost::hana::second(field)(original));
        });
        CHECK(hotstate::queue_options_to_json(loaded) == text);
    }
}
