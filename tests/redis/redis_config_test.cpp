// URL parsing and config validation: pure functions, no server.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/hana/for_each.hpp>
#include <boost/hana/keys.hpp>
#include <boost/hana/string.hpp>

#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/backends/redis_sentinel.hpp>
#include <hotstate/redis/cluster/config.hpp>
#include <hotstate/redis/config.hpp>
#include <hotstate/redis/fmt.hpp>

using hotstate::redis::config;
using hotstate::redis::endpoint;
using hotstate::redis::parse_url;

namespace {

std::string configuration_error_of(auto&& call) {
    try {
        call();
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::configuration);
        return e.what();
    }
    FAIL("expected a configuration error");
    return {};
}

}  // namespace

TEST_CASE("redis config: defaults are the seeds'", "[redis][config]") {
    const config c;
    CHECK(c.node.pool_max_connections == 10);
    CHECK(c.node.pool_timeout_create == std::chrono::seconds{30});
    CHECK(c.node.pool_timeout_wait == std::chrono::seconds{30});
    CHECK(c.node.pool_timeout_recycle == std::chrono::seconds{30});
    CHECK(c.node.timeout == std::chrono::seconds{10});
    CHECK(c.node.protocol == hotstate::redis::protocol_version::resp2);
}

TEST_CASE("redis URL: the accepted forms", "[redis][config]") {
    SECTION("host only") {
        const endpoint e = parse_url("redis://cache.example.com");
        CHECK(e.type == endpoint::kind::tcp);
        CHECK(e.host == "cache.example.com");
        CHECK(e.port == 6379);
        CHECK(e.db == 0);
        CHECK_FALSE(e.username);
        CHECK_FALSE(e.password);
    }
    SECTION("user, password, port, db") {
        const endpoint e = parse_url("redis://alice:p%40ss:word@10.0.0.5:6380/3");
        CHECK(e.host == "10.0.0.5");
        CHECK(e.port == 6380);
        CHECK(e.db == 3);
        CHECK(e.username == "alice");
        CHECK(e.password == "p@ss:word");
        CHECK(e.address() == "10.0.0.5:6380");
    }
    SECTION("password only") {
        const endpoint e = parse_url("redis://:secret@localhost:7000/");
        CHECK_FALSE(e.username);
        CHECK(e.password == "secret");
        CHECK(e.port == 7000);
    }
    SECTION("IPv6") {
        const endpoint e = parse_url("redis://[::1]:6390/2");
        CHECK(e.host == "::1");
        CHECK(e.port == 6390);
        CHECK(e.address() == "[::1]:6390");
    }
    SECTION("unix socket") {
        const endpoint e = parse_url("unix:///run/redis/redis.sock?db=4");
        CHECK(e.type == endpoint::kind::unix_socket);
        CHECK(e.path == "/run/redis/redis.sock");
        CHECK(e.db == 4);
        CHECK(parse_url("unix:///tmp/r.sock").db == 0);
    }
}

TEST_CASE("redis URL: malformed URLs name the offending part and never the password", "[redis][config]") {
    using Catch::Contains;
    CHECK_THAT(configuration_error_of([] { (void)parse_url("cache.example.com:6379"); }), Contains("missing scheme"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("http://h"); }), Contains("unsupported scheme 'http'"));
    const auto bad_port = configuration_error_of([] { (void)parse_url("redis://bob:hunter2@host:65536"); });
    CHECK_THAT(bad_port, Contains("port '65536'"));
    CHECK_THAT(bad_port, !Contains("hunter2"));
    CHECK_THAT(bad_port, Contains("'redis://***@host:65536'"));  // a parse error quotes no userinfo at all
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://host:abc"); }), Contains("port 'abc'"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://host:"); }), Contains("empty port"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://:pw@:6379"); }), Contains("missing host"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://host/x1"); }), Contains("database 'x1'"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://host/1?foo=bar"); }), Contains("query"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("redis://[::1:6379"); }), Contains("']'"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("unix://relative.sock"); }), Contains("absolute"));
    CHECK_THAT(configuration_error_of([] { (void)parse_url("unix:///s.sock?db=x"); }), Contains("db='x'"));
    const auto bad_escape = configuration_error_of([] { (void)parse_url("redis://u:%zzsecret@h"); });
    CHECK_THAT(bad_escape, Contains("password has a malformed %-escape"));
    CHECK_THAT(bad_escape, !Contains("secret"));
}

TEST_CASE("redis config: rediss:// turns TLS on; RESP3 is refused naming hiredis's version", "[redis][config]") {
    using Catch::Contains;
    const auto version = hotstate::redis::hiredis_version();
    CHECK(version == std::to_string(HIREDIS_MAJOR) + "." + std::to_string(HIREDIS_MINOR) + "." +
                         std::to_string(HIREDIS_PATCH));
    const auto tls = parse_url("rediss://u:topsecret@host:6380/2");
    CHECK(tls.tls.enabled);
    CHECK(tls.host == "host");
    CHECK(tls.port == 6380);
    CHECK(tls.db == 2);
    CHECK_FALSE(parse_url("redis://host:6380").tls.enabled);
    CHECK(hotstate::redis::to_string(tls) == "rediss://u:***@host:6380/2");
    {
        config settings;
        settings.url = "rediss://host:6380";
        settings.node.tls.ca_file = "/etc/ca.pem";
        const auto resolved = hotstate::redis::resolve(settings);
        CHECK(resolved.tls.enabled);
        CHECK(resolved.tls.ca_file == "/etc/ca.pem");
        settings.url = "redis://host:6380";
        CHECK_FALSE(hotstate::redis::resolve(settings).tls.enabled);
        settings.node.tls.enabled = true;
        CHECK(hotstate::redis::resolve(settings).tls.enabled);
        settings.url = "unix:///run/redis.sock";
        CHECK_THAT(configuration_error_of([&] { (void)hotstate::redis::resolve(settings); }), Contains("Unix socket"));
    }
    config c;
    c.node.protocol = hotstate::redis::protocol_version::resp3;
    const auto resp3 = configuration_error_of([&] { (void)hotstate::redis::resolve(c); });
    CHECK_THAT(resp3, Contains("resp3"));
    if constexpr (!hotstate::redis::hiredis_has_resp3) CHECK_THAT(resp3, Contains("hiredis " + version));
}

TEST_CASE("redis config: resolve applies auth overrides and validates", "[redis][config]") {
    config c;
    c.url = "redis://url-user:url-pass@h:1/2";
    c.node.auth_secret = "override";
    const endpoint e = hotstate::redis::resolve(c);
    CHECK(e.username == "url-user");
    CHECK(e.password == "override");
    CHECK(e.db == 2);
    c.node.auth_username = "acl-user";
    CHECK(hotstate::redis::resolve(c).username == "acl-user");
    config zero;
    zero.node.pool_max_connections = 0;
    CHECK_THAT(configuration_error_of([&] { (void)hotstate::redis::resolve(zero); }),
               Catch::Contains("pool_max_connections"));
    config user_only;
    user_only.node.auth_username = "alice";
    CHECK_THAT(configuration_error_of([&] { (void)hotstate::redis::resolve(user_only); }), Catch::Contains("password"));
}

TEST_CASE("redis config: printing masks every secret", "[redis][config]") {
    config c;
    c.url = "redis://alice:url-secret@h:6379/1";
    c.node.auth_username = "bob";
    c.node.auth_secret = "field-secret";
    const std::string text = hotstate::redis::to_string(c);
    CHECK_THAT(text, Catch::Contains("alice:***@h:6379/1"));
    CHECK_THAT(text, Catch::Contains("auth_secret=***"));
    CHECK_THAT(text, !Catch::Contains("secret@") && !Catch::Contains("field-secret") && !Catch::Contains("url-secret"));
    const std::string formatted = fmt::format("{}", c);
    CHECK(formatted == text);
    const std::string where = fmt::format("{}", hotstate::redis::resolve(c));
    CHECK(where == "redis://bob:***@h:6379/1");
}

// ---- secrets never appear: the passwords of issue 9 ---------------------------

namespace {

using namespace std::string_literals;

/// What a call threw as a configuration error; "" when it did not throw.
std::string error_text_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const hotstate::error& e) {
        CHECK(e.kind() == hotstate::errc::configuration);
        return e.what();
    }
    return {};
}

/// Every text the library can produce from a URL: parse and resolve errors,
/// to_string and fmt of the config and the endpoint, the cluster and sentinel
/// configs with the URL in their lists, and the errors of constructing their
/// backends (which resolve each URL and add messages of their own). None of it
/// opens a connection.
std::vector<std::string> texts_of(const std::string& url, bool with_backends = true) {
    std::vector<std::string> out;
    out.push_back(error_text_of([&] { (void)parse_url(url); }));
    config single;
    single.url = url;
    out.push_back(hotstate::redis::to_string(single));
    out.push_back(fmt::format("{}", single));
    out.push_back(error_text_of([&] {
        const endpoint where = hotstate::redis::resolve(single);
        out.push_back(hotstate::redis::to_string(where));
        out.push_back(fmt::format("{}", where));
    }));
    hotstate::redis::cluster_config cluster;
    cluster.urls = {"redis://seed.example.com:7000", url};
    out.push_back(hotstate::redis::to_string(cluster));
    out.push_back(fmt::format("{}", cluster));
    if (with_backends) out.push_back(error_text_of([&] { hotstate::backends::redis_cluster backend(cluster); }));
    hotstate::redis::sentinel_config sentinel;
    sentinel.sentinel_urls = {"redis://sentinel.example.com:26379", url};
    out.push_back(hotstate::redis::to_string(sentinel));
    out.push_back(fmt::format("{}", sentinel));
    if (with_backends) out.push_back(error_text_of([&] { hotstate::backends::redis_sentinel backend(sentinel); }));
    return out;
}

/// A 4-byte window of a secret that shows up in `text` although the same text
/// produced with a reference password does not contain it: a leak, not a
/// coincidence with the host, the port or the message's own words.
std::optional<std::string> leaked_window(const std::string& text, const std::string& reference,
                                         const std::vector<std::string>& secrets) {
    if (text == reference) return std::nullopt;  // no window can be in one and not the other
    for (const auto& secret : secrets)
        for (std::size_t i = 0; i + 4 <= secret.size(); ++i) {
            const std::string window = secret.substr(i, 4);
            if (text.find(window) != std::string::npos && reference.find(window) == std::string::npos) return window;
        }
    return std::nullopt;
}

/// How many 4-byte windows of the secrets the reference text does not hold:
/// the windows the check above can see, so a test can insist there are some.
std::size_t checkable_windows(const std::string& reference, const std::vector<std::string>& secrets) {
    std::size_t count = 0;
    for (const auto& secret : secrets)
        for (std::size_t i = 0; i + 4 <= secret.size(); ++i)
            if (reference.find(secret.substr(i, 4)) == std::string::npos) ++count;
    return count;
}

/// A URL with a password slot: prefix + encoded password + suffix.
struct url_shape {
    std::string prefix;
    std::string suffix;
    bool valid;  ///< parse_url accepts it (with any password that encodes validly)
    /// Every text is the same whatever the password. Not so without a scheme:
    /// "user:" + "//..." reads as scheme "user" (which is no secret).
    bool password_independent = true;
};

const std::vector<url_shape>& shapes() {
    static const std::vector<url_shape> all{
        {"redis://user:", "@cache.example.com:6380/2", true},
        {"redis://:", "@10.0.0.5", true},
        {"redis://app:", "@[::1]:6379", true},
        {"redis://user:", "@host:65536", false},  // port out of range
        {"redis://user:", "@host:6x79/1", false},  // port not a number
        {"redis://user:", "@host/x1", false},      // db not a number
        {"redis://user:", "@:6379", false},        // no host
        {"redis://user:", "@host/1?password=p", false},
        {"redis://user:", "@[::1:6379", false},
        {"rediss://user:", "@host:6380", true},
        {"http://user:", "@host", false},
        {"user:", "@host:6379", false, false},  // no scheme
        {"unix://user:", "@/run/redis.sock", false},
    };
    return all;
}

std::string percent_encode(std::string_view text, std::mt19937_64& random, bool every_byte) {
    static constexpr char upper[] = "0123456789ABCDEF";
    static constexpr char lower[] = "0123456789abcdef";
    std::string out;
    for (const char c : text) {
        if (!every_byte && c != '%' && random() % 2 == 0) {
            out.push_back(c);
            continue;
        }
        const char* digits = random() % 2 ? upper : lower;
        const auto byte = static_cast<unsigned char>(c);
        out.push_back('%');
        out.push_back(digits[byte >> 4]);
        out.push_back(digits[byte & 15]);
    }
    return out;
}

/// The ways a password is written into a URL: as is (when it has no '%'),
/// every byte %-escaped, and a random mix ('%' always escaped).
std::vector<std::string> encodings_of(const std::string& password, std::mt19937_64& random) {
    std::vector<std::string> out;
    if (password.find('%') == std::string::npos) out.push_back(password);
    out.push_back(percent_encode(password, random, true));
    out.push_back(percent_encode(password, random, false));
    return out;
}

/// Checks one password in one URL shape and one encoding: a valid URL yields
/// the password back; every text equals the one a reference password gives
/// (so nothing in it depends on the password), and holds no window of it.
/// Constructing the cluster and sentinel backends (to see their own messages)
/// is most of the cost, so the property test does it for one URL in `backend_every`.
void check_secret_in(const url_shape& shape, const std::string& password, const std::string& encoded,
                     bool with_backends = true) {
    const std::string url = shape.prefix + encoded + shape.suffix;
    const std::string reference_url = shape.prefix + "reference" + shape.suffix;
    INFO("URL: " << url);
    if (shape.valid) {
        const endpoint where = parse_url(url);
        CHECK(where.password == password);
    } else {
        CHECK_FALSE(error_text_of([&] { (void)parse_url(url); }).empty());
    }
    const auto texts = texts_of(url, with_backends);
    static std::map<std::pair<std::string, bool>, std::vector<std::string>> reference_texts;
    auto reference = reference_texts.find({reference_url, with_backends});
    if (reference == reference_texts.end())
        reference = reference_texts.emplace(std::pair{reference_url, with_backends}, texts_of(reference_url, with_backends)).first;
    const auto& references = reference->second;
    REQUIRE(texts.size() == references.size());
    const std::vector<std::string> secrets{password, encoded};
    // one CHECK per URL rather than per text: the property test runs ~40,000 URLs
    std::string failures;
    for (std::size_t i = 0; i < texts.size(); ++i) {
        if (shape.password_independent && texts[i] != references[i])
            failures += "text " + std::to_string(i) + " depends on the password: " + texts[i] + "\n";
        if (const auto window = leaked_window(texts[i], references[i], secrets))
            failures += "text " + std::to_string(i) + " shows '" + *window + "': " + texts[i] + "\n";
    }
    CHECK(failures.empty());
    // the check is not vacuous: it sees the password in the URL itself
    if (checkable_windows(reference_url, secrets) > 0) CHECK(leaked_window(url, reference_url, secrets));
}

}  // namespace

TEST_CASE("redis URL: the password of issue 9 with '/' is a password, not a port", "[redis][config][secrets]") {
    const endpoint e = parse_url("redis://app:Pa55/word@10.0.0.5:6379/2");
    CHECK(e.username == "app");
    CHECK(e.password == "Pa55/word");
    CHECK(e.host == "10.0.0.5");
    CHECK(e.port == 6379);
    CHECK(e.db == 2);
    const endpoint marks = parse_url("redis://app:a?b#c@d/e@10.0.0.5");
    CHECK(marks.password == "a?b#c@d/e");
    CHECK(marks.host == "10.0.0.5");
    config c;
    c.url = "redis://app:Pa55/word@10.0.0.5:6379/2";
    CHECK(hotstate::redis::to_string(c).find("redis{url=redis://app:***@10.0.0.5:6379/2,") == 0);
    const auto bad = error_text_of([] { (void)parse_url("redis://app:Pa55/word@10.0.0.5:x/2"); });
    CHECK_THAT(bad, Catch::Contains("port 'x'") && !Catch::Contains("Pa55") && !Catch::Contains("word"));
}

TEST_CASE("redis URL: user names and passwords are percent-decoded", "[redis][config][secrets]") {
    const endpoint e = parse_url("redis://us%65r%3Aname:%2f%3F%23%40%25+x@h");
    CHECK(e.username == "user:name");
    CHECK(e.password == "/?#@%+x");  // '+' stays '+'
    CHECK(parse_url("redis://%41:b@h").username == "A");
    CHECK_THAT(error_text_of([] { (void)parse_url("redis://u:abc%4@h"); }), Catch::Contains("malformed %-escape"));
    CHECK_THAT(error_text_of([] { (void)parse_url("redis://u%zz:abc@h"); }),
               Catch::Contains("user name has a malformed %-escape"));
    // a path or query with an '@' would otherwise become a user name
    CHECK_THAT(error_text_of([] { (void)parse_url("redis://host/2?x@other"); }), Catch::Contains("user name contains"));
}

TEST_CASE("redis URL: passwords of every printable ASCII character never show", "[redis][config][secrets]") {
    std::mt19937_64 random(20261201);
    std::string every;
    for (char c = ' '; c <= '~'; ++c) every.push_back(c);
    std::vector<std::string> passwords{every, std::string(every.rbegin(), every.rend())};
    for (char c = ' '; c <= '~'; ++c) passwords.push_back(std::string(8, c) + "tail" + std::string(8, c));
    passwords.push_back("%41%42%43%44");  // escapes that are themselves the password
    passwords.push_back("%%%%25%25");
    for (const auto& password : passwords)
        for (const auto& encoded : encodings_of(password, random))
            for (const auto& shape : shapes()) check_secret_in(shape, password, encoded);
}

TEST_CASE("redis URL: random passwords never show in any message or printout (property)", "[redis][config][secrets]") {
    std::mt19937_64 random(0x5ec2e7);  // fixed: a failure reproduces
    constexpr int passwords = 4000;
    constexpr int backend_every = 10;
    for (int n = 0; n < passwords; ++n) {
        std::string password(4 + random() % 37, ' ');
        for (auto& c : password) c = static_cast<char>(' ' + random() % 95);
        const auto encodings = encodings_of(password, random);
        for (std::size_t s = 0; s < shapes().size(); ++s)
            check_secret_in(shapes()[s], password, encodings[(static_cast<std::size_t>(n) + s) % encodings.size()],
                            n % backend_every == 0);
    }
}

TEST_CASE("redis URL: a raw '%' that does not decode is an error that quotes nothing of it", "[redis][config][secrets]") {
    for (const std::string password : {"ab%zzcdefgh", "abcdefgh%", "abcdefgh%4"}) {
        const std::string url = "redis://user:" + password + "@host:6379";
        for (const auto& text : texts_of(url)) {
            CHECK(text.find("abcd") == std::string::npos);
            CHECK(text.find("efgh") == std::string::npos);
        }
        CHECK_THAT(error_text_of([&] { (void)parse_url(url); }), Catch::Contains("password has a malformed %-escape"));
    }
}

TEST_CASE("redis URL: a lone user name, possibly a misplaced password, is masked too", "[redis][config][secrets]") {
    config c;
    c.url = "redis://hunter2secret@host:6379";
    CHECK(hotstate::redis::to_string(c).find("url=redis://***@host:6379,") != std::string::npos);
    CHECK(hotstate::redis::to_string(parse_url(c.url)) == "redis://***@host:6379");
    CHECK_THAT(error_text_of([&] { (void)hotstate::redis::resolve(c); }), !Catch::Contains("hunter2"));
    config odd;
    odd.url = "redis://we/rd:pass@host:6379";  // not a plain user name: the whole userinfo is masked
    CHECK(hotstate::redis::to_string(odd).find("url=redis://***@host:6379,") != std::string::npos);
}

TEST_CASE("redis URL: query values other than db are masked", "[redis][config][secrets]") {
    const auto unix_query = error_text_of([] { (void)parse_url("unix:///s.sock?db=x&password=hunter2"); });
    CHECK_THAT(unix_query, Catch::Contains("db='x'") && !Catch::Contains("hunter2"));
    const auto unknown = error_text_of([] { (void)parse_url("unix:///s.sock?password=hunter2"); });
    CHECK_THAT(unknown, Catch::Contains("unknown query parameter 'password'") && !Catch::Contains("hunter2"));
    CHECK_THAT(unknown, Catch::Contains("?password=***"));
    const auto redis_query = error_text_of([] { (void)parse_url("redis://h/1?password=hunter2"); });
    CHECK_THAT(redis_query, Catch::Contains("query") && !Catch::Contains("hunter2"));
    CHECK(parse_url("unix:///tmp/a@b.sock").path == "/tmp/a@b.sock");  // an '@' in a socket path is a file name
}

TEST_CASE("redis URL: messages stay short whatever the input", "[redis][config][secrets]") {
    const std::string huge(1 << 20, 'a');
    const auto check_short = [](const std::string& text, std::string_view expected) {
        INFO(text);
        CHECK_THAT(text, Catch::Contains(std::string(expected)));
        CHECK(text.size() < 400);
    };
    check_short(error_text_of([&] { (void)parse_url("redis://" + huge + ":6379"); }), "host is longer than 255 bytes");
    check_short(error_text_of([&] { (void)parse_url("redis://h:" + huge); }), "' is not a number in 1..65535");
    check_short(error_text_of([&] { (void)parse_url("redis://h/" + huge); }), "is not a number");
    check_short(error_text_of([&] { (void)parse_url(huge + "://h"); }), "unsupported scheme");
    check_short(error_text_of([&] { (void)parse_url("redis://h/1?" + huge); }), "query parameters");
    check_short(error_text_of([&] { (void)parse_url("redis://h/1?" + std::string(1 << 16, '&')); }), "query parameters");
    check_short(error_text_of([&] { (void)parse_url("unix:///" + huge); }), "socket path is longer than");
    check_short(error_text_of([&] { (void)parse_url("unix:///s?" + huge + "=1"); }), "unknown query parameter");
    check_short(error_text_of([&] { (void)parse_url("redis://" + huge + ":" + huge + "@h:x"); }), "port 'x'");
    config c;
    c.url = "redis://" + huge + ":" + huge + "@h:1";
    c.node.auth_username = huge;
    CHECK(hotstate::redis::to_string(c).size() < 600);
    const endpoint long_password = parse_url("redis://u:" + huge + "@h:1");
    CHECK(long_password.password->size() == huge.size());
    CHECK(hotstate::redis::to_string(long_password) == "redis://u:***@h:1");
}

TEST_CASE("redis URL: control characters are escaped in messages", "[redis][config][secrets]") {
    const auto text = error_text_of([] { (void)parse_url("redis://h:6\n\x1b[2J"); });
    CHECK_THAT(text, Catch::Contains("port '6\\x0a\\x1b[2J'"));
    CHECK(text.find('\n') == std::string::npos);
}

TEST_CASE("redis URL: a NUL byte is a configuration error, never cut short", "[redis][config][secrets]") {
    using Catch::Contains;
    CHECK_THAT(error_text_of([] { (void)parse_url("redis://ho\0st:6379"s); }), Contains("host contains a NUL byte"));
    CHECK_THAT(error_text_of([] { (void)parse_url("redis://[::1\0]:6379"s); }), Contains("host contains a NUL byte"));
    CHECK_THAT(error_text_of([] { (void)parse_url("redis://u:pa\0ss@h"s); }), Contains("password contains a NUL byte"));
    CHECK_THAT(error_text_of([] { (void)parse_url("redis://u:pa%00ss@h"); }), Contains("password contains a NUL byte"));
    CHECK_THAT(error_text_of([] { (void)parse_url("redis://u%00:pass@h"); }), Contains("user name contains a NUL byte"));
    CHECK_THAT(error_text_of([] { (void)parse_url("unix:///tmp/a\0b.sock"s); }), Contains("socket path contains a NUL"));
    CHECK_THAT(error_text_of([] { (void)parse_url("redis://h\tx:6379"); }), Contains("host contains an invalid character"));
    config c;
    c.node.auth_secret = "hun\0ter2"s;
    const auto secret = error_text_of([&] { (void)hotstate::redis::resolve(c); });
    CHECK_THAT(secret, Contains("auth_secret contains a NUL byte"));
    CHECK_THAT(secret, !Contains("hun") && !Contains("ter2"));
    config user;
    user.node.auth_username = "al\0ice"s;
    user.node.auth_secret = "x";
    CHECK_THAT(error_text_of([&] { (void)hotstate::redis::resolve(user); }), Contains("auth_username contains a NUL byte"));
    hotstate::redis::sentinel_config sentinel;
    sentinel.sentinel_secret = "se\0cret"s;
    CHECK_THAT(error_text_of([&] { hotstate::backends::redis_sentinel backend(sentinel); }),
               Contains("contains a NUL byte"));
    hotstate::redis::cluster_config cluster;
    cluster.urls = {"redis://u:a%00b@h:7000"};
    CHECK_THAT(error_text_of([&] { hotstate::backends::redis_cluster backend(cluster); }),
               Contains("password contains a NUL byte"));
}

TEST_CASE("redis config: cluster and sentinel printouts mask every URL's password", "[redis][config][secrets]") {
    hotstate::redis::cluster_config cluster;
    cluster.urls = {"redis://a:first/secret@n1:7000", "redis://:second%40secret@n2:7001", "redis://third@n3:7002"};
    cluster.node.auth_secret = "fourth-secret";
    const std::string text = hotstate::redis::to_string(cluster);
    CHECK(text.find("urls=[redis://a:***@n1:7000, redis://:***@n2:7001, redis://***@n3:7002]") != std::string::npos);
    CHECK(fmt::format("{}", cluster) == text);
    for (const char* secret : {"first", "second", "third", "fourth"}) CHECK(text.find(secret) == std::string::npos);
    hotstate::redis::sentinel_config sentinel;
    sentinel.sentinel_urls = {"redis://s:first/secret@s1:26379"};
    sentinel.sentinel_secret = "second-secret";
    sentinel.node.auth_secret = "third-secret";
    const std::string sentinel_text = hotstate::redis::to_string(sentinel);
    CHECK(sentinel_text.find("sentinel_urls=[redis://s:***@s1:26379]") != std::string::npos);
    CHECK(fmt::format("{}", sentinel) == sentinel_text);
    for (const char* secret : {"first", "second", "third"}) CHECK(sentinel_text.find(secret) == std::string::npos);
}

// ---- composition: node_settings, retry_policy, lock_options, secret ----------

TEST_CASE("redis config: the three configs share node_settings, retry_policy and lock_options", "[redis][config]") {
    using namespace std::chrono_literals;
    const hotstate::redis::node_settings node{.timeout = 2s, .pool_max_connections = 16, .auth_secret = "pw"};
    const config single{.url = "redis://10.0.0.5:6379/2", .node = node, .locks = {.fence_retention = 5s}};
    const hotstate::redis::cluster_config cluster{.urls = {"redis://10.0.0.5:7000"}, .node = node,
                                                  .retry = {.max_retries = 3, .min_retry_wait = 5ms}};
    const hotstate::redis::sentinel_config sentinel{.service_name = "cache", .node = node, .retry = cluster.retry};
    // one type, one meaning: the same settings reach every backend's pool
    const auto pool = hotstate::redis::pool_options::from(single);
    CHECK(pool.max_connections == 16);
    CHECK(pool.connect.command_timeout == 2s);
    CHECK(hotstate::redis::resolve(single).password == "pw");
    CHECK(cluster.node.timeout == sentinel.node.timeout);
    CHECK(cluster.retry.max_retries == 3);
    CHECK(cluster.retry.min_retry_wait == 5ms);
    CHECK(cluster.retry.max_retry_wait == 2000ms);  // the default of the part left out
    CHECK(sentinel.retry.max_retries == 3);
    CHECK(single.locks.fence_retention == 5s);
    CHECK(cluster.locks.fence_retention == std::chrono::minutes{10});
}

TEST_CASE("redis config: a secret is never printed, whatever holds it", "[redis][config][secrets]") {
    const hotstate::secret password = "hunter2-secret";
    CHECK(hotstate::to_string(password) == "***");
    CHECK(password.reveal() == "hunter2-secret");
    CHECK(password == std::string_view("hunter2-secret"));
    hotstate::redis::sentinel_config sentinel;
    sentinel.sentinel_secret = "sentinel-secret";
    sentinel.node.auth_secret = "master-secret";
    sentinel.node.tls.key_file = "/etc/redis/client.key";  // a path, not a secret: shown
    const std::string text = hotstate::redis::to_string(sentinel);
    CHECK_THAT(text, Catch::Contains("sentinel_secret=***") && Catch::Contains("auth_secret=***"));
    CHECK_THAT(text, Catch::Contains("key_file=/etc/redis/client.key"));
    CHECK(text.find("sentinel-secret") == std::string::npos);
    CHECK(text.find("master-secret") == std::string::npos);
}

TEST_CASE("redis config: printing comes from the Hana field list: every field is shown", "[redis][config]") {
    namespace hana = boost::hana;
    const auto names_of = [](const auto& value) {
        std::vector<std::string> names;
        hana::for_each(hana::keys(value), [&](auto name) { names.emplace_back(hana::to<const char*>(name)); });
        return names;
    };
    config single;
    single.node.auth_username = "app";
    single.node.auth_secret = "pw";
    hotstate::redis::cluster_config cluster;
    cluster.node = single.node;
    hotstate::redis::sentinel_config sentinel;
    sentinel.node = single.node;
    sentinel.sentinel_username = "watcher";
    sentinel.sentinel_secret = "pw2";
    const auto check_all_shown = [&](const std::string& text, const std::vector<std::string>& names) {
        INFO(text);
        for (const auto& name : names) CHECK_THAT(text, Catch::Contains(name + "="));
    };
    check_all_shown(hotstate::redis::to_string(single), names_of(single));
    check_all_shown(hotstate::redis::to_string(single), names_of(single.node));
    check_all_shown(hotstate::redis::to_string(single), names_of(single.node.tls));
    check_all_shown(hotstate::redis::to_string(cluster), names_of(cluster));
    check_all_shown(hotstate::redis::to_string(cluster), names_of(cluster.retry));
    check_all_shown(hotstate::redis::to_string(sentinel), names_of(sentinel));
    CHECK(names_of(single) == std::vector<std::string>{"url", "node", "locks", "connect_on_start"});
    CHECK(hotstate::redis::to_string(cluster).find(
              "retry={max_retries=10, min_retry_wait=10ms, max_retry_wait=2000ms}") != std::string::npos);
}

TEST_CASE("redis config: node.tls reaches the endpoint; TLS on a Unix socket is refused", "[redis][config]") {
    config c;
    c.node.tls.enabled = true;
    c.node.tls.server_name = "redis.internal";
    const auto where = hotstate::redis::resolve(c);
    CHECK(where.tls.enabled);
    CHECK(where.tls.server_name == "redis.internal");
    c.url = "unix:///run/redis.sock";
    CHECK_THAT(configuration_error_of([&] { (void)hotstate::redis::resolve(c); }), Catch::Contains("Unix socket"));
}

TEST_CASE("to_string prints the TLS setting in effect: a rediss:// URL turns it on", "[redis][config]") {
    const hotstate::redis::config tls_by_url{.url = "rediss://redis.internal:6380"};
    CHECK_THAT(hotstate::redis::to_string(tls_by_url), Catch::Contains("tls={enabled=on,"));
    const hotstate::redis::config plain{.url = "redis://redis.internal:6379"};
    CHECK_THAT(hotstate::redis::to_string(plain), Catch::Contains("tls={enabled=off,"));
    const hotstate::redis::cluster_config cluster{.urls = {"rediss://a:7000", "rediss://b:7000"}};
    CHECK_THAT(hotstate::redis::to_string(cluster), Catch::Contains("tls={enabled=on,"));
    // the struct itself is left as it was written
    CHECK_FALSE(tls_by_url.node.tls.enabled);
}
