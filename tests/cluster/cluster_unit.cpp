// Pure pieces of the cluster client, without any server: key slots, the slot
// map, the CLUSTER SLOTS parser and the redirect/retry state machine.
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <hiredis/hiredis.h>

#include <hotstate/detail/redis/proto/redirect.hpp>
#include <hotstate/detail/redis/proto/slot.hpp>
#include <hotstate/detail/redis/routing/slot_map.hpp>
#include <hotstate/detail/redis/proto/slots_reply.hpp>
#include <hotstate/key.hpp>
#include <hotstate/redis/reply.hpp>

using namespace hotstate::detail::redis::routing;
using namespace std::chrono_literals;

TEST_CASE("key slots match CLUSTER KEYSLOT of Redis 7.0.15", "[cluster][slot]") {
    // every expected value below was read from `CLUSTER KEYSLOT` on a real node
    CHECK(key_slot("foo") == 12182);
    CHECK(key_slot("bar") == 5061);
    CHECK(key_slot("hello") == 866);
    CHECK(key_slot("123456789") == 12739);
    CHECK(key_slot("") == 0);
    SECTION("hash tags") {
        CHECK(key_slot("{user1000}.following") == 3443);
        CHECK(key_slot("{user1000}.followers") == 3443);
        CHECK(key_slot("foo{}{bar}") == 8363);      // empty first tag: whole key
        CHECK(key_slot("foo{{bar}}zap") == 4015);   // tag is "{bar"
        CHECK(key_slot("foo{bar}{zap}") == 5061);   // first tag only: "bar"
        CHECK(key_slot("{}") == 15257);
        CHECK(key_slot("{") == 4092);
        CHECK(key_slot("a}b{c}") == 7365);          // a '}' before the '{' does not close anything
    }
    SECTION("binary keys and the seeds' layout with the prefix byte") {
        CHECK(key_slot(std::string("\x02sender", 7)) == 1853);
        CHECK(key_slot(std::string("{\x04queue-run}", 12)) == 8624);
        CHECK(key_slot(std::string("bin\0key\xff\x01", 9)) == 11922);
        CHECK(key_slot(hotstate::encode_key(2, hotstate::key_layout::plain, "sender")) == 1853);
    }
    SECTION("a hash-tagged key and its window buckets share one slot") {
        const auto key = hotstate::encode_key(9, hotstate::key_layout::hash_tagged, "198.51.100.7");
        for (std::uint64_t window : {0ull, 1ull, 0x7b7d7b7dull, ~0ull})
            CHECK(key_slot(hotstate::encode_window_bucket(9, hotstate::key_layout::hash_tagged, "198.51.100.7",
                                                          window)) == key_slot(key));
    }
    SECTION("compile-time") {
        static_assert(key_slot("foo") == 12182);
        static_assert(hashed_part("x{tag}y") == "tag");
    }
}

namespace {

node_address node(std::uint16_t port) { return {"127.0.0.1", port}; }

}  // namespace

TEST_CASE("slot map routes every slot to its master", "[cluster][slot_map]") {
    const std::vector<slot_range> ranges{
        {0, 5460, node(7000), {node(7003)}},
        {5461, 10922, node(7001), {node(7004)}},
        {10923, 16383, node(7002), {node(7005)}},
    };
    auto map = slot_map::from_ranges(ranges);
    CHECK(map.covers_all_slots());
    CHECK(map.nodes().size() == 6);
    CHECK(map.nodes()[map.master_of(0)] == node(7000));
    CHECK(map.nodes()[map.master_of(5460)] == node(7000));
    CHECK(map.nodes()[map.master_of(5461)] == node(7001));
    CHECK(map.nodes()[map.master_of(16383)] == node(7002));
    CHECK(map.nodes()[map.reader_of(0, 17)] == node(7003));
    CHECK(map.masters().size() == 3);

    SECTION("MOVED patches one slot and keeps the others") {
        map.assign(100, node(7001));
        CHECK(map.nodes()[map.master_of(100)] == node(7001));
        CHECK(map.nodes()[map.master_of(101)] == node(7000));
        CHECK(map.nodes().size() == 6);
        map.assign(200, node(7100));  // a node never seen
        CHECK(map.nodes()[map.master_of(200)] == node(7100));
        CHECK(map.nodes().size() == 7);
        CHECK(map.masters().size() == 4);
    }
    SECTION("a gap is unassigned") {
        auto partial = slot_map::from_ranges(std::vector<slot_range>{{0, 99, node(7000), {}}});
        CHECK_FALSE(partial.covers_all_slots());
        CHECK(partial.master_of(100) == slot_map::unassigned);
        CHECK(partial.reader_of(100, 0) == slot_map::unassigned);
        CHECK(partial.reader_of(5, 3) == partial.master_of(5));  // no replica: the master reads
    }
    SECTION("a master serving several ranges is one node") {
        auto split = slot_map::from_ranges(std::vector<slot_range>{
            {0, 10, node(7000), {}}, {11, 20, node(7001), {}}, {21, 16383, node(7000), {}}});
        CHECK(split.covers_all_slots());
        CHECK(split.masters().size() == 2);
        CHECK(split.nodes().size() == 2);
    }
}

namespace {

hotstate::redis::reply parse_resp(const std::string& bytes) {
    hotstate::detail::redis::reply_reader reader;  // the replies the connections make
    REQUIRE(reader.feed(bytes.data(), bytes.size()));
    hotstate::redis::reply parsed;
    REQUIRE(reader.next(parsed));
    REQUIRE(parsed);
    return parsed;
}

std::string bulk(const std::string& s) { return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n"; }

std::string node_entry(const std::string& host, int port, const std::string& id) {
    // Redis 7 appends a metadata map (an empty array in RESP2)
    return "*4\r\n" + bulk(host) + ":" + std::to_string(port) + "\r\n" + bulk(id) + "*0\r\n";
}

}  // namespace

TEST_CASE("CLUSTER SLOTS replies parse into slot ranges", "[cluster][slots_reply]") {
    const std::string reply = "*2\r\n"
                              "*4\r\n:0\r\n:8191\r\n" + node_entry("10.0.0.1", 7000, "aaaa") +
                              node_entry("10.0.0.2", 7001, "bbbb") +
                              "*3\r\n:8192\r\n:16383\r\n" + node_entry("", 7002, "cccc");
    const auto parsed = parse_resp(reply);
    const auto ranges = parse_cluster_slots(parsed, "192.0.2.9");
    REQUIRE(ranges.has_value());
    REQUIRE(ranges->size() == 2);
    CHECK((*ranges)[0].first == 0);
    CHECK((*ranges)[0].last == 8191);
    CHECK((*ranges)[0].master == node_address{"10.0.0.1", 7000});
    REQUIRE((*ranges)[0].replicas.size() == 1);
    CHECK((*ranges)[0].replicas[0] == node_address{"10.0.0.2", 7001});
    CHECK((*ranges)[1].master == node_address{"192.0.2.9", 7002});  // unknown endpoint: the host we asked
    CHECK(slot_map::from_ranges(*ranges).covers_all_slots());

    SECTION("anything else is refused, not guessed") {
        CHECK_FALSE(parse_cluster_slots(parse_resp("-ERR This instance has cluster support disabled\r\n"), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*3\r\n:5\r\n:2\r\n" + node_entry("h", 1, "x")), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*3\r\n:0\r\n:16384\r\n" + node_entry("h", 1, "x")), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*3\r\n:0\r\n:1\r\n*1\r\n" + bulk("h")), "h"));
        CHECK(parse_cluster_slots(parse_resp("*0\r\n"), "h")->empty());
        CHECK_FALSE(parse_cluster_slots(parse_resp(":1\r\n"), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*2\r\n:0\r\n:1\r\n"), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*3\r\n:-1\r\n:1\r\n" + node_entry("h", 1, "x")), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*3\r\n$1\r\n0\r\n:1\r\n" + node_entry("h", 1, "x")), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*3\r\n:0\r\n:1\r\n" + node_entry("h", 0, "x")), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*3\r\n:0\r\n:1\r\n" + node_entry("h", 65536, "x")), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*3\r\n:0\r\n:1\r\n*2\r\n:5\r\n:1\r\n"), "h"));
        CHECK_FALSE(parse_cluster_slots(parse_resp("*1\r\n*4\r\n:0\r\n:1\r\n" + node_entry("h", 1, "x") + ":7\r\n"), "h"));
    }
    SECTION("a host announced as \"?\" or as a status is read as the others") {
        const auto unknown = parse_cluster_slots(parse_resp("*1\r\n*3\r\n:0\r\n:16383\r\n" + node_entry("?", 7000, "x")), "::1");
        REQUIRE(unknown);
        CHECK((*unknown)[0].master == node_address{"::1", 7000});
        const auto status = parse_cluster_slots(parse_resp("*1\r\n*3\r\n:0\r\n:16383\r\n*3\r\n+10.0.0.3\r\n:7003\r\n" + bulk("x")), "h");
        REQUIRE(status);
        CHECK((*status)[0].master == node_address{"10.0.0.3", 7003});
    }
}

TEST_CASE("redirect targets parse as host:port, IPv6 with or without brackets", "[cluster][redirect]") {
    CHECK(parse_endpoint("10.0.0.7:6381") == node_address{"10.0.0.7", 6381});
    CHECK(parse_endpoint("[::1]:7000") == node_address{"::1", 7000});
    CHECK(parse_endpoint("::1:7000") == node_address{"::1", 7000});
    CHECK(parse_endpoint("[2001:db8::7]:7000", "10.9.9.9") == node_address{"2001:db8::7", 7000});
    // an empty host (Redis 7's unknown endpoint) is reached where we asked, brackets or not
    CHECK(parse_endpoint(":7000", "10.9.9.9") == node_address{"10.9.9.9", 7000});
    CHECK(parse_endpoint("[]:7000", "::1") == node_address{"::1", 7000});
    CHECK(parse_endpoint(":7000") == node_address{"", 7000});
    for (const char* bad : {"", "7000", "[::1]", "[::1]:", "[::1]:0", "[::1]:65536", "h:7000x"})
        CHECK_FALSE(parse_endpoint(bad));
}

TEST_CASE("reply errors are classified for retrying", "[cluster][redirect]") {
    auto moved = classify_error("MOVED 3999 127.0.0.1:6381");
    CHECK(moved.kind == failure_kind::moved);
    CHECK(moved.slot == 3999);
    CHECK(moved.target == node_address{"127.0.0.1", 6381});

    auto ask = classify_error("ASK 16383 10.1.2.3:7002");
    CHECK(ask.kind == failure_kind::ask);
    CHECK(ask.slot == 16383);
    CHECK(ask.target == node_address{"10.1.2.3", 7002});

    CHECK(classify_error("MOVED 12 ::1:7000").target == node_address{"::1", 7000});
    CHECK(classify_error("MOVED 12 [::1]:7000").target == node_address{"::1", 7000});
    CHECK(classify_error("MOVED 12 :7000", "10.9.9.9").target == node_address{"10.9.9.9", 7000});
    CHECK(classify_error("ASK 12 [fe80::1]:7000", "10.9.9.9").target == node_address{"fe80::1", 7000});
    const std::pair<const char*, failure_kind> retried[] = {
        {"TRYAGAIN Multiple keys request during rehashing of slot", failure_kind::try_again},
        {"CLUSTERDOWN The cluster is down", failure_kind::cluster_down},
        {"CLUSTERDOWN Hash slot not served", failure_kind::cluster_down},
        {"LOADING Redis is loading the dataset in memory", failure_kind::busy},
        {"READONLY You can't write against a read only replica.", failure_kind::busy},
        {"MASTERDOWN Link with MASTER is down", failure_kind::busy}};
    for (const auto& [text, kind] : retried) CHECK(classify_error(text).kind == kind);

    SECTION("malformed redirects and ordinary errors are not retried") {
        // the slot and the port are whole decimal numbers (detail::parse_decimal): no sign, no suffix, not empty
        for (const char* bad : {"MOVED", "MOVED 16384 h:1", "MOVED x h:1", "MOVED 1 h:0", "MOVED 1 h:99999",
                                "MOVED 1 nohost", "MOVED  h:1", "MOVED -1 h:1", "MOVED +1 h:1", "MOVED 1x h:1",
                                "MOVED 1 h:", "MOVED 1 h:+1", "MOVED 1 h:1 ", "MOVED 1 [::1]:-7000",
                                "WRONGTYPE Operation against a key holding the wrong kind of value",
                                "ERR unknown command", ""}) {
            CAPTURE(bad);
            CHECK(classify_error(bad).kind == failure_kind::none);
        }
    }
}

TEST_CASE("the retry state machine follows the policy", "[cluster][redirect]") {
    const retry_policy policy{5, 10ms, 50ms};
    using action = retry_step::action;

    SECTION("MOVED refreshes the map and retries at once") {
        retry_fsm fsm(policy);
        const auto step = fsm.on_failure(classify_error("MOVED 1 h:7001"));
        CHECK(step.what == action::retry);
        CHECK(step.refresh_map);
        CHECK(step.wait == 0ms);
        CHECK_FALSE(step.ask_target.has_value());
    }
    SECTION("ASK retries on the target without touching the map") {
        retry_fsm fsm(policy);
        const auto step = fsm.on_failure(classify_error("ASK 1 h:7001"));
        CHECK(step.what == action::retry);
        CHECK_FALSE(step.refresh_map);
        CHECK(step.wait == 0ms);
        CHECK(step.ask_target == node_address{"h", 7001});
    }
    SECTION("TRYAGAIN, CLUSTERDOWN and connection errors back off exponentially up to the cap") {
        retry_fsm fsm(policy);
        std::vector<std::chrono::milliseconds> waits;
        auto first = fsm.on_failure(classify_error("TRYAGAIN x"));
        CHECK_FALSE(first.refresh_map);
        waits.push_back(first.wait);
        auto down = fsm.on_failure(classify_error("CLUSTERDOWN x"));
        CHECK(down.refresh_map);
        waits.push_back(down.wait);
        auto lost = fsm.on_failure(classified_error{failure_kind::connection, 0, std::nullopt});
        CHECK(lost.refresh_map);
        waits.push_back(lost.wait);
        waits.push_back(fsm.on_failure(classify_error("TRYAGAIN x")).wait);
        waits.push_back(fsm.on_failure(classify_error("TRYAGAIN x")).wait);
        CHECK(waits == std::vector<std::chrono::milliseconds>{10ms, 20ms, 40ms, 50ms, 50ms});
        CHECK(fsm.retries() == 5);
        SECTION("then the budget is spent") {
            CHECK(fsm.on_failure(classify_error("TRYAGAIN x")).what == action::give_up);
            CHECK(fsm.on_failure(classify_error("MOVED 1 h:7001")).what == action::give_up);
        }
    }
    SECTION("redirects do not advance the backoff, but they use the budget") {
        retry_fsm fsm(policy);
        (void)fsm.on_failure(classify_error("MOVED 1 h:7001"));
        (void)fsm.on_failure(classify_error("ASK 1 h:7001"));
        CHECK(fsm.on_failure(classify_error("TRYAGAIN x")).wait == 10ms);
        CHECK(fsm.retries() == 3);
    }
    SECTION("errors that are not about the cluster give up at once") {
        retry_fsm fsm(policy);
        CHECK(fsm.on_failure(classify_error("WRONGTYPE x")).what == action::give_up);
        CHECK(fsm.retries() == 0);
    }
    SECTION("no retries allowed") {
        retry_fsm fsm(retry_policy{0, 10ms, 50ms});
        CHECK(fsm.on_failure(classify_error("MOVED 1 h:7001")).what == action::give_up);
    }
    SECTION("backoff arithmetic") {
        CHECK(retry_fsm::backoff({10, 0ms, 100ms}, 5) == 0ms);
        CHECK(retry_fsm::backoff({10, 100ms, 10ms}, 0) == 100ms);  // a cap below the floor: the floor
        CHECK(retry_fsm::backoff({10, 1ms, 1000ms}, 60) == 1000ms); // no overflow on long runs
    }
}

#include <hotstate/detail/redis/routing/sentinel_router.hpp>

TEST_CASE("SENTINEL get-master-addr-by-name replies parse into an address", "[sentinel][unit]") {
    const auto parsed = parse_resp("*2\r\n" + bulk("10.0.0.5") + bulk("6380"));
    const auto address = parse_master_address(hotstate::redis::reply_view(parsed.get()));
    REQUIRE(address.has_value());
    CHECK(*address == node_address{"10.0.0.5", 6380});
    CHECK(address->to_string() == "10.0.0.5:6380");
    CHECK(parse_master_address(hotstate::redis::reply_view(parse_resp("*2\r\n" + bulk("::1") + bulk("6380")).get()))->to_string() == "[::1]:6380");
    SECTION("an unknown service (nil) or anything malformed is no address") {
        CHECK_FALSE(parse_master_address(hotstate::redis::reply_view(parse_resp("$-1\r\n").get())));
        CHECK_FALSE(parse_master_address(hotstate::redis::reply_view(parse_resp("*-1\r\n").get())));
        CHECK_FALSE(parse_master_address(hotstate::redis::reply_view(parse_resp("*1\r\n" + bulk("h")).get())));
        CHECK_FALSE(parse_master_address(hotstate::redis::reply_view(parse_resp("*2\r\n" + bulk("h") + bulk("port")).get())));
        CHECK_FALSE(parse_master_address(hotstate::redis::reply_view(parse_resp("*2\r\n" + bulk("") + bulk("6379")).get())));
        CHECK_FALSE(parse_master_address(hotstate::redis::reply_view(parse_resp("-ERR No such master with that name\r\n").get())));
    }
}

#include <hotstate/detail/redis/proto/scripts.hpp>

TEST_CASE("every Lua script touches KEYS[1] only, so it runs on a cluster by construction", "[cluster][unit]") {
    for (const auto* script : hotstate::detail::redis::all_scripts) {
        INFO(script->name);
        const std::string_view text = script->text;
        std::size_t keys = 0;
        for (auto at = text.find("KEYS["); at != std::string_view::npos; at = text.find("KEYS[", at + 1)) {
            CHECK(text.substr(at, 7) == "KEYS[1]");
            ++keys;
        }
        CHECK(keys >= 1);
        // a key computed inside a script (the seeds' EmailEngine problem) would be a string built
        // from ARGV or KEYS and passed to redis.call: no script concatenates onto a key
        CHECK(text.find("KEYS[1] ..") == std::string_view::npos);
        CHECK(text.find(".. KEYS[1]") == std::string_view::npos);
    }
}

TEST_CASE("CRC16 two bytes at a time equals the bitwise definition", "[cluster][slot]") {
    const auto reference = [](std::string_view bytes) {
        std::uint32_t crc = 0;
        for (const char c : bytes) {
            crc ^= static_cast<std::uint32_t>(static_cast<std::uint8_t>(c)) << 8;
            for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x8000u) ? ((crc << 1) ^ 0x1021u) : (crc << 1);
            crc &= 0xffffu;
        }
        return static_cast<std::uint16_t>(crc);
    };
    std::string bytes;
    std::uint32_t state = 12345;
    for (int length = 0; length < 300; ++length) {
        CHECK(crc16(bytes) == reference(bytes));
        state = state * 1103515245u + 12345u;
        bytes.push_back(static_cast<char>(state >> 16));
    }
}

TEST_CASE("the one-pass key slot equals CRC16 of the hashed part, braces anywhere", "[cluster][slot]") {
    std::uint32_t state = 777;
    for (int round = 0; round < 5000; ++round) {
        std::string key;
        state = state * 1103515245u + 12345u;
        const int length = static_cast<int>(state >> 16) % 24;
        for (int i = 0; i < length; ++i) {
            state = state * 1103515245u + 12345u;
            const auto pick = (state >> 16) % 8;
            key.push_back(pick == 0 ? '{' : pick == 1 ? '}' : static_cast<char>(state >> 8));
        }
        CHECK(key_slot(key) == (crc16(hashed_part(key)) & (slot_count - 1)));
    }
}
