#include <string>

#include <catch2/catch.hpp>

#include <hotstate/categories.hpp>
#include <hotstate/key.hpp>

using namespace std::string_literals;

namespace {
struct tagged : hotstate::category<99, "tagged", hotstate::bytes, hotstate::hash_tagged> {};
}

TEST_CASE("key encoding: one prefix byte then the key bytes", "[unit][key]") {
    CHECK(hotstate::encode_key<hotstate::categories::oauth>("abc") == "\x01" "abc"s);
    CHECK(hotstate::encode_key<hotstate::categories::acme>("tok") == "\x00" "tok"s);
    CHECK(hotstate::encode_key<hotstate::categories::sieve_id>("") == "\x1a"s);
    CHECK(hotstate::encode_key(255, hotstate::key_layout::plain, "k") == "\xff" "k"s);
}

TEST_CASE("key encoding: binary safe", "[unit][key]") {
    const std::string key("a\0b\xff", 4);
    const std::string encoded = hotstate::encode_key<hotstate::categories::greylist>(key);
    REQUIRE(encoded.size() == 5);
    CHECK(encoded[0] == '\x10');
    CHECK(encoded.substr(1) == key);
}

TEST_CASE("key encoding: fixed-window bucket appends the big-endian window index", "[unit][key]") {
    const auto bucket = hotstate::encode_window_bucket<hotstate::categories::rate_limit_rcpt>("s@x", 0x0102030405060708ULL);
    CHECK(bucket == "\x02s@x\x01\x02\x03\x04\x05\x06\x07\x08"s);
    CHECK(hotstate::encode_window_bucket<hotstate::categories::rate_limit_rcpt>("", 1) == "\x02\0\0\0\0\0\0\0\x01"s);
}

TEST_CASE("key encoding: hash-tagged layout wraps prefix and key in braces", "[unit][key]") {
    CHECK(hotstate::encode_key<tagged>("job") == "{\x63job}"s);
    CHECK(hotstate::encode_window_bucket<tagged>("job", 2) == "{\x63job}\0\0\0\0\0\0\0\x02"s);
    CHECK(hotstate::encode_key_prefix<tagged>("jo") == "{\x63jo"s);
    CHECK(hotstate::encode_key<tagged>("job").starts_with(hotstate::encode_key_prefix<tagged>("jo")));
}

TEST_CASE("key encoding: the category prefix matches every key of the category", "[unit][key]") {
    using rcpt = hotstate::categories::rate_limit_rcpt;
    CHECK(hotstate::encode_key_prefix<rcpt>() == "\x02"s);
    CHECK(hotstate::encode_key<rcpt>("user").starts_with(hotstate::encode_key_prefix<rcpt>("us")));
    CHECK_FALSE(hotstate::encode_key<rcpt>("host").starts_with(hotstate::encode_key_prefix<rcpt>("us")));
}

TEST_CASE("stock categories carry the seeds' prefix ids", "[unit][key]") {
    using namespace hotstate::categories;
    STATIC_REQUIRE(acme::id == 0);
    STATIC_REQUIRE(oauth::id == 1);
    STATIC_REQUIRE(rate_limit_rcpt::id == 2);
    STATIC_REQUIRE(rate_limit_scan::id == 3);
    STATIC_REQUIRE(rate_limit_loiter::id == 4);
    STATIC_REQUIRE(rate_limit_auth::id == 5);
    STATIC_REQUIRE(rate_limit_smtp::id == 6);
    STATIC_REQUIRE(rate_limit_contact::id == 7);
    STATIC_REQUIRE(rate_limit_http_authenticated::id == 8);
    STATIC_REQUIRE(rate_limit_http_anonymous::id == 9);
    STATIC_REQUIRE(rate_limit_imap::id == 10);
    STATIC_REQUIRE(quota_blob::id == 11);
    STATIC_REQUIRE(greylist::id == 16);
    STATIC_REQUIRE(lock_queue_message::id == 21);
    STATIC_REQUIRE(lock_task::id == 23);
    STATIC_REQUIRE(lock_dav::id == 25);
    STATIC_REQUIRE(sieve_id::id == 26);
    STATIC_REQUIRE(hotstate::detail::ids_are_unique<acme, oauth, rate_limit_rcpt, rate_limit_scan, rate_limit_loiter,
                                                    rate_limit_auth, rate_limit_smtp, rate_limit_contact,
                                                    rate_limit_http_authenticated, rate_limit_http_anonymous,
                                                    rate_limit_imap, quota_blob, greylist, lock_queue_message,
                                                    lock_task, lock_dav, sieve_id>());
}

#include <hotstate/detail/base/key_buffer.hpp>

TEST_CASE("key encoding: the store's stack buffer builds the same bytes", "[unit][key]") {
    for (std::size_t length : {0u, 1u, 15u, 100u, 117u, 118u, 119u, 120u, 500u}) {
        CAPTURE(length);
        std::string key(length, 'k');
        if (length > 0) key[0] = '\0';
        for (auto layout : {hotstate::key_layout::plain, hotstate::key_layout::hash_tagged}) {
            const hotstate::detail::key_buffer plain(7, layout, key);
            CHECK(plain.view() == hotstate::encode_key(7, layout, key));
            const hotstate::detail::key_buffer bucket(7, layout, key, 0xa1b2c3d4e5f60718ULL);
            CHECK(bucket.view() == hotstate::encode_window_bucket(7, layout, key, 0xa1b2c3d4e5f60718ULL));
        }
    }
}
