// The Stream models against real servers: round trips through TCP (IPv4, IPv6,
// a name), a Unix socket, TLS and mutual TLS, parsed by hiredis's redisReader;
// TLS failures named for their cause; peer_gone() after CLIENT KILL; deadlines.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <hiredis/hiredis.h>

#include <hotstate/detail/redis/io/any_stream.hpp>
#include <hotstate/detail/redis/io/stream.hpp>
#include <hotstate/detail/redis/io/tcp_stream.hpp>
#include <hotstate/detail/redis/io/tls_stream.hpp>
#include <hotstate/detail/redis/io/unix_stream.hpp>
#include <hotstate/error.hpp>
#include <hotstate/redis/tls.hpp>

#include "support/errors.hpp"
#include "support/eventually.hpp"
#include "support/redis_server.hpp"
#include "support/tls_certs.hpp"

namespace {

namespace hs = hotstate::detail::redis;
using hotstate::errc;
using hotstate::redis::tls_options;
using hotstate::testing::redis_server;
using hotstate::testing::redis_tls_server;
using hotstate::testing::reply_ptr;
using hotstate::testing::tls_certs;
using namespace std::chrono_literals;

const tls_certs& certs() {
    static const tls_certs made;
    return made;
}

hs::deadline in(std::chrono::milliseconds span) { return std::chrono::steady_clock::now() + span; }

/// One command, RESP-encoded here (independently of the library's encoder).
std::string encode(std::initializer_list<std::string_view> args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (auto arg : args) out.append("$").append(std::to_string(arg.size())).append("\r\n").append(arg).append("\r\n");
    return out;
}

/// A hiredis reply parser fed from a stream.
class reader {
public:
    reader() : raw_(redisReaderCreate()) {}
    reader(const reader&) = delete;
    reader& operator=(const reader&) = delete;
    ~reader() { redisReaderFree(raw_); }

    template <class S>
    reply_ptr next(S& stream, hs::deadline until) {
        for (;;) {
            void* parsed = nullptr;
            REQUIRE(redisReaderGetReply(raw_, &parsed) == REDIS_OK);
            if (parsed) return reply_ptr(static_cast<redisReply*>(parsed));
            char buffer[16 * 1024];
            const std::size_t got = stream.read_some(buffer, until);
            REQUIRE(got > 0);
            REQUIRE(got <= sizeof buffer);
            REQUIRE(redisReaderFeed(raw_, buffer, got) == REDIS_OK);
        }
    }

private:
    redisReader* raw_;
};

template <class S>
reply_ptr call(S& stream, reader& replies, std::initializer_list<std::string_view> args) {
    const std::string request = encode(args);
    stream.write_all(request, in(5s));
    return replies.next(stream, in(5s));
}

std::string_view text(const reply_ptr& reply) { return {reply->str, reply->len}; }

/// PING, SET, GET (binary), a 1 MiB value each way (partial writes and reads), CLIENT ID.
template <class S>
void round_trips(S& stream) {
    reader replies;
    auto pong = call(stream, replies, {"PING"});
    REQUIRE(pong->type == REDIS_REPLY_STATUS);
    CHECK(text(pong) == "PONG");
    const std::string_view binary("v\0\r\n*1", 6);
    CHECK(text(call(stream, replies, {"SET", "stream:k", binary})) == "OK");
    auto got = call(stream, replies, {"GET", "stream:k"});
    REQUIRE(got->type == REDIS_REPLY_STRING);
    CHECK(text(got) == binary);
    std::string big(1 << 20, 'x');
    for (std::size_t i = 0; i < big.size(); i += 4099) big[i] = static_cast<char>('a' + i % 26);
    CHECK(text(call(stream, replies, {"SET", "stream:big", big})) == "OK");
    auto back = call(stream, replies, {"GET", "stream:big"});
    REQUIRE(back->type == REDIS_REPLY_STRING);
    CHECK(text(back) == big);
    // pipelined: two requests in one write, two replies
    const std::string both = encode({"INCR", "stream:n"}) + encode({"INCR", "stream:n"});
    stream.write_all(both, in(5s));
    auto first = replies.next(stream, in(5s));
    auto second = replies.next(stream, in(5s));
    REQUIRE(first->type == REDIS_REPLY_INTEGER);
    CHECK(second->integer == first->integer + 1);
}

tls_options trusting(std::string ca) {
    tls_options options;
    options.enabled = true;
    options.ca_file = std::move(ca);
    return options;
}

hs::tls_connector tls_to(std::uint16_t port, const tls_options& options, std::string host = "127.0.0.1") {
    return hs::tls_connector(std::move(host), port, {}, options);
}

using hotstate::testing::error_of;

/// The base64 lines of a PEM key file (each long enough to be unmistakable).
std::vector<std::string> secret_lines(const std::string& key_file) {
    std::vector<std::string> lines;
    std::istringstream in(certs().read(key_file));
    for (std::string line; std::getline(in, line);)
        if (!line.starts_with("-----") && line.size() >= 16) lines.push_back(line);
    return lines;
}

/// Whether `message` carries any part of a key file the tests use.
bool carries_a_key(std::string_view message) {
    static const auto lines = [] {
        auto all = secret_lines(certs().client_key());
        auto server = secret_lines(certs().server_key());
        all.insert(all.end(), server.begin(), server.end());
        return all;
    }();
    if (message.find("PRIVATE KEY") != std::string_view::npos) return true;
    for (const auto& line : lines)
        if (message.find(line) != std::string_view::npos) return true;
    return false;
}

/// Checks a failure's message for key material, and hands the failure on.
hotstate::error remember(hotstate::error failure) {
    CHECK_FALSE(carries_a_key(failure.what()));
    return failure;
}

bool ipv6_loopback_available() {
    const int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_addr = in6addr_loopback;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

TEST_CASE("the models satisfy Stream", "[tls][stream]") {
    STATIC_REQUIRE(hs::Stream<hs::tcp_stream>);
    STATIC_REQUIRE(hs::Stream<hs::unix_stream>);
    STATIC_REQUIRE(hs::Stream<hs::tls_session>);
    STATIC_REQUIRE(hs::Stream<hs::any_stream>);
    STATIC_REQUIRE_FALSE(hs::Stream<int>);
}

TEST_CASE("tcp_stream: round trips over IPv4, a host name and IPv6", "[tls][stream][tcp]") {
    const bool v6 = ipv6_loopback_available();
    redis_server server(v6 ? hotstate::testing::redis_server_options{.extra_config = {"bind 127.0.0.1 ::1"}}
                           : hotstate::testing::redis_server_options{});
    SECTION("127.0.0.1") {
        hs::tcp_stream::connector to("127.0.0.1", server.port());
        auto stream = to.connect(in(5s));
        CHECK(stream.address() == server.address());
        CHECK(stream.is_open());
        round_trips(stream);
        stream.close();
        CHECK_FALSE(stream.is_open());
        CHECK(stream.native_handle() == -1);
    }
    SECTION("localhost, whatever it resolves to first") {
        hs::tcp_stream::connector to("localhost", server.port(), {.no_delay = true, .keepalive = 2s});
        auto stream = to.connect(in(5s));
        CHECK(stream.address() == "localhost:" + std::to_string(server.port()));
        round_trips(stream);
    }
    SECTION("::1") {
        if (!v6) {
            WARN("no IPv6 loopback on this host: IPv6 not exercised");
            return;
        }
        hs::tcp_stream::connector to("::1", server.port());
        auto stream = to.connect(in(5s));
        CHECK(stream.address() == "[::1]:" + std::to_string(server.port()));
        round_trips(stream);
    }
    SECTION("keep-alive and TCP_NODELAY are set as configured") {
        hs::tcp_stream::connector to("127.0.0.1", server.port(), {.no_delay = true, .keepalive = 9s});
        auto stream = to.connect(in(5s));
        int value = 0;
        socklen_t size = sizeof value;
        REQUIRE(::getsockopt(stream.native_handle(), SOL_SOCKET, SO_KEEPALIVE, &value, &size) == 0);
        CHECK(value == 1);
        REQUIRE(::getsockopt(stream.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &value, &size) == 0);
        CHECK(value == 9);
        REQUIRE(::getsockopt(stream.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &value, &size) == 0);
        CHECK(value == 3);
        REQUIRE(::getsockopt(stream.native_handle(), IPPROTO_TCP, TCP_NODELAY, &value, &size) == 0);
        CHECK(value != 0);
        hs::tcp_stream::connector off("127.0.0.1", server.port(), {.no_delay = false, .keepalive = 0s});
        auto plain = off.connect(in(5s));
        REQUIRE(::getsockopt(plain.native_handle(), SOL_SOCKET, SO_KEEPALIVE, &value, &size) == 0);
        CHECK(value == 0);
        REQUIRE(::getsockopt(plain.native_handle(), IPPROTO_TCP, TCP_NODELAY, &value, &size) == 0);
        CHECK(value == 0);
    }
}

TEST_CASE("unix_stream: round trips", "[tls][stream][unix]") {
    redis_server server({.unix_socket = true});
    hs::unix_stream::connector to(server.unix_socket_path().string());
    auto stream = to.connect(in(5s));
    CHECK(stream.address() == server.unix_socket_path().string());
    round_trips(stream);
}

TEST_CASE("tls_stream: round trips, verified by IP address and by name", "[tls][stream]") {
    redis_tls_server server(certs());
    SECTION("127.0.0.1, checked against the certificate's IP address") {
        auto stream = tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s));
        CHECK(stream.address() == server.tls_address());
        CHECK(std::string_view(SSL_get_version(stream.native_session())) == "TLSv1.3");
        round_trips(stream);
    }
    SECTION("localhost, checked against the certificate's DNS name") {
        auto stream = tls_to(server.tls_port(), trusting(certs().ca()), "localhost").connect(in(5s));
        round_trips(stream);
    }
    SECTION("server_name overrides the host for SNI and verification") {
        auto options = trusting(certs().ca());
        options.server_name = "localhost";
        auto to = tls_to(server.tls_port(), options);
        CHECK(to.server_name() == "localhost");
        auto stream = to.connect(in(5s));
        round_trips(stream);
    }
    SECTION("a CA directory instead of a CA file") {
        hotstate::testing::temp_directory dir("hotstate-cadir");
        std::filesystem::copy_file(certs().ca(), dir.path() / "ca.pem");
        hotstate::testing::run_program({"openssl", "rehash", dir.path().string()}, dir.path() / "rehash.log");
        tls_options options;
        options.enabled = true;
        options.ca_path = dir.path().string();
        auto stream = tls_to(server.tls_port(), options).connect(in(5s));
        round_trips(stream);
    }
    SECTION("verify_peer = false accepts a certificate no CA vouches for") {
        auto options = trusting(certs().other_ca());
        options.verify_peer = false;
        auto stream = tls_to(server.tls_port(), options).connect(in(5s));
        round_trips(stream);
    }
}

TEST_CASE("tls_stream: mutual TLS round trips with a client certificate", "[tls][stream]") {
    redis_tls_server server(certs(), {.auth_clients = true});
    auto options = trusting(certs().ca());
    options.cert_file = certs().client_cert();
    options.key_file = certs().client_key();
    auto stream = tls_to(server.tls_port(), options).connect(in(5s));
    round_trips(stream);
}

TEST_CASE("any_stream: round trips over the model its connector picks", "[tls][stream]") {
    redis_tls_server server(certs());
    SECTION("TCP") {
        hs::any_stream::connector to(hs::tcp_stream::connector("127.0.0.1", server.plain().port()));
        CHECK_FALSE(to.is_tls());
        CHECK(to.address() == server.plain().address());
        auto stream = to.connect(in(5s));
        CHECK(stream.tls() == nullptr);
        round_trips(stream);
    }
    SECTION("Unix socket") {
        hs::any_stream::connector to(hs::unix_stream::connector(server.plain().unix_socket_path().string()));
        auto stream = to.connect(in(5s));
        round_trips(stream);
    }
    SECTION("TLS") {
        hs::any_stream::connector to(tls_to(server.tls_port(), trusting(certs().ca())));
        CHECK(to.is_tls());
        auto stream = to.connect(in(5s));
        CHECK(stream.tls() != nullptr);
        round_trips(stream);
    }
}

TEST_CASE("tls_stream: a server no trusted CA signed is refused, naming the cause", "[tls][stream][errors]") {
    SECTION("the client trusts another CA") {
        redis_tls_server server(certs());
        auto failure = remember(error_of([&] { (void)tls_to(server.tls_port(), trusting(certs().other_ca())).connect(in(5s)); }));
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains(server.tls_address()));
        // the server sends its chain up to its root, which the client does not trust
        CHECK_THAT(failure.message(), Catch::Contains("certificate verify failed: self-signed certificate in certificate chain") ||
                                          Catch::Contains("certificate verify failed: unable to get local issuer certificate"));
        CHECK_THAT(failure.message(), Catch::Contains("not signed by a CA in CA file '" + certs().other_ca() + "'"));
    }
    SECTION("the server presents a certificate of another CA") {
        redis_tls_server server(certs(), {.cert_file = certs().foreign_server_cert()});
        auto failure = remember(error_of([&] { (void)tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s)); }));
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains("certificate verify failed: unable to get local issuer certificate"));
    }
}

TEST_CASE("tls_stream: an expired server certificate is refused", "[tls][stream][errors]") {
    redis_tls_server server(certs(), {.cert_file = certs().expired_server_cert()});
    auto failure = remember(error_of([&] { (void)tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s)); }));
    CHECK(failure.kind() == errc::connection);
    CHECK_THAT(failure.message(), Catch::Contains(server.tls_address()));
    CHECK_THAT(failure.message(), Catch::Contains("certificate verify failed: certificate has expired"));
}

TEST_CASE("tls_stream: a certificate for another name is refused", "[tls][stream][errors]") {
    redis_tls_server server(certs());
    SECTION("a host name") {
        auto options = trusting(certs().ca());
        options.server_name = "wrong.example.com";
        auto failure = remember(error_of([&] { (void)tls_to(server.tls_port(), options).connect(in(5s)); }));
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains("certificate verify failed: hostname mismatch"));
        CHECK_THAT(failure.message(), Catch::Contains("'wrong.example.com'"));
    }
    SECTION("an IP address") {
        auto options = trusting(certs().ca());
        options.server_name = "127.0.0.2";
        auto failure = remember(error_of([&] { (void)tls_to(server.tls_port(), options).connect(in(5s)); }));
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains("certificate verify failed: IP address mismatch"));
    }
}

TEST_CASE("tls_stream: a server that demands a client certificate", "[tls][stream][errors]") {
    redis_tls_server server(certs(), {.auth_clients = true});
    SECTION("none configured: errc::authentication saying so (at the handshake or the first reply)") {
        auto failure = remember(error_of([&] {
            auto stream = tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s));
            reader replies;
            (void)call(stream, replies, {"PING"});
        }));
        CHECK(failure.kind() == errc::authentication);
        CHECK_THAT(failure.message(), Catch::Contains(server.tls_address()));
        CHECK_THAT(failure.message(), Catch::Contains("the server requires a client certificate and none is configured"));
        CHECK_THAT(failure.message(), Catch::Contains("certificate required"));
    }
    SECTION("one its CA did not sign: errc::authentication naming the certificate") {
        auto options = trusting(certs().ca());
        options.cert_file = certs().foreign_client_cert();
        options.key_file = certs().client_key();
        auto failure = remember(error_of([&] {
            auto stream = tls_to(server.tls_port(), options).connect(in(5s));
            reader replies;
            (void)call(stream, replies, {"PING"});
        }));
        CHECK(failure.kind() == errc::authentication);
        CHECK_THAT(failure.message(), Catch::Contains("the server refused the client certificate"));
        CHECK_THAT(failure.message(), Catch::Contains(certs().foreign_client_cert()));
    }
}

TEST_CASE("tls_context: unusable files are configuration errors naming the path", "[tls][stream][errors]") {
    const auto missing = (certs().dir() / "no-such-ca.crt").string();
    SECTION("a CA file that does not exist") {
        auto failure = remember(error_of([&] { hs::tls_context context(trusting(missing)); }));
        CHECK(failure.kind() == errc::configuration);
        CHECK_THAT(failure.message(), Catch::Contains("cannot read the CA file '" + missing + "'"));
        CHECK_THAT(failure.message(), Catch::Contains("No such file or directory"));
    }
    SECTION("a CA file that holds no certificate (a key)") {
        auto failure = remember(error_of([&] { hs::tls_context context(trusting(certs().client_key())); }));
        CHECK(failure.kind() == errc::configuration);
        CHECK_THAT(failure.message(), Catch::Contains(certs().client_key()));
    }
    SECTION("a CA directory that is a file") {
        tls_options options;
        options.ca_path = certs().ca();
        auto failure = remember(error_of([&] { hs::tls_context context(options); }));
        CHECK(failure.kind() == errc::configuration);
        CHECK_THAT(failure.message(), Catch::Contains("is not a directory"));
    }
    SECTION("a key file that is not a key") {
        auto options = trusting(certs().ca());
        options.cert_file = certs().client_cert();
        options.key_file = certs().ca();
        auto failure = remember(error_of([&] { hs::tls_context context(options); }));
        CHECK(failure.kind() == errc::configuration);
        CHECK_THAT(failure.message(), Catch::Contains("cannot use the private key file '" + certs().ca() + "'"));
    }
    SECTION("a key that belongs to another certificate") {
        auto options = trusting(certs().ca());
        options.cert_file = certs().client_cert();
        options.key_file = certs().server_key();
        auto failure = remember(error_of([&] { hs::tls_context context(options); }));
        CHECK(failure.kind() == errc::configuration);
        CHECK_THAT(failure.message(), Catch::Contains("does not belong to the client certificate"));
        CHECK_THAT(failure.message(), Catch::Contains(certs().server_key()));
    }
    SECTION("a certificate without its key") {
        auto options = trusting(certs().ca());
        options.cert_file = certs().client_cert();
        auto failure = remember(error_of([&] { hs::tls_context context(options); }));
        CHECK(failure.kind() == errc::configuration);
        CHECK_THAT(failure.message(), Catch::Contains("needs both cert_file and key_file"));
    }
    SECTION("a key file that cannot be read") {
        auto options = trusting(certs().ca());
        options.cert_file = certs().client_cert();
        options.key_file = missing;
        auto failure = remember(error_of([&] { hs::tls_context context(options); }));
        CHECK(failure.kind() == errc::configuration);
        CHECK_THAT(failure.message(), Catch::Contains("cannot read the private key file '" + missing + "'"));
    }
}

TEST_CASE("the key-material check of the failure tests can fail", "[tls][stream][errors]") {
    const auto lines = secret_lines(certs().client_key());
    REQUIRE(lines.size() >= 2);
    CHECK(carries_a_key("cannot use the key: " + lines[1]));
    CHECK(carries_a_key(certs().read(certs().server_key())));
    CHECK_FALSE(carries_a_key("cannot use the private key file '" + certs().client_key() + "': no start line"));
}

namespace {

/// Asks the server (through the stream) for this connection's id.
template <class S>
std::string client_id(S& stream, reader& replies) {
    auto id = call(stream, replies, {"CLIENT", "ID"});
    REQUIRE(id->type == REDIS_REPLY_INTEGER);
    return std::to_string(id->integer);
}

/// peer_gone() is false on a live idle stream, turns true once the server
/// kills the connection, and then reads and writes fail (and no SIGPIPE).
template <class S>
void gone_after_client_kill(S& stream, redis_server& control) {
    reader replies;
    const std::string id = client_id(stream, replies);
    CHECK_FALSE(stream.peer_gone());
    CHECK_FALSE(stream.peer_gone());  // asking does not consume anything
    CHECK(text(call(stream, replies, {"PING"})) == "PONG");
    auto killed = control.command({"CLIENT", "KILL", "ID", id});
    REQUIRE(killed->type == REDIS_REPLY_INTEGER);
    REQUIRE(killed->integer == 1);
    CHECK(hotstate::testing::eventually([&] { return stream.peer_gone(); }, 5s));
    // the first write may still be buffered by the kernel; a later one or the read fails
    auto failure = error_of([&] {
        const std::string ping = encode({"PING"});
        for (int attempt = 0; attempt < 100; ++attempt) {
            stream.write_all(ping, in(5s));
            (void)replies.next(stream, in(5s));
        }
    });
    CHECK(failure.kind() == errc::connection);
    CHECK_THAT(failure.message(), Catch::Contains(std::string(stream.address())));
}

}  // namespace

TEST_CASE("peer_gone: false while alive, true after CLIENT KILL", "[tls][stream][peer_gone]") {
    redis_tls_server server(certs());
    SECTION("TCP") {
        auto stream = hs::tcp_stream::connector("127.0.0.1", server.plain().port()).connect(in(5s));
        gone_after_client_kill(stream, server.plain());
    }
    SECTION("Unix socket") {
        auto stream = hs::unix_stream::connector(server.plain().unix_socket_path().string()).connect(in(5s));
        gone_after_client_kill(stream, server.plain());
    }
    SECTION("TLS") {
        auto stream = tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s));
        gone_after_client_kill(stream, server.plain());
    }
    SECTION("TLS: session tickets that arrive on an idle stream are not a closed peer") {
        auto stream = tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s));
        // TLS 1.3 servers send session tickets right after the handshake
        pollfd entry{stream.native_handle(), POLLIN, 0};
        REQUIRE(::poll(&entry, 1, 5000) == 1);
        CHECK_FALSE(stream.peer_gone());
        CHECK_FALSE(stream.wait_readable(in(20ms)));  // tickets are not data
        gone_after_client_kill(stream, server.plain());
    }
    SECTION("a closed stream counts as gone") {
        auto stream = hs::tcp_stream::connector("127.0.0.1", server.plain().port()).connect(in(5s));
        stream.close();
        CHECK(stream.peer_gone());
        CHECK(error_of([&] { stream.write_all(encode({"PING"}), in(1s)); }).kind() == errc::connection);
        auto tls = tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s));
        tls.close();
        CHECK(tls.peer_gone());
        CHECK_FALSE(tls.is_open());
        CHECK(error_of([&] { tls.write_all(encode({"PING"}), in(1s)); }).kind() == errc::connection);
        char buffer[8];
        CHECK(error_of([&] { (void)tls.read_some(buffer, in(1s)); }).kind() == errc::connection);
    }
}

TEST_CASE("wait_readable: true when a reply is waiting, false at the deadline", "[tls][stream]") {
    redis_tls_server server(certs());
    auto check = [](auto stream) {
        CHECK_FALSE(stream.wait_readable(in(20ms)));
        const std::string ping = encode({"PING"});
        stream.write_all(ping, in(5s));
        CHECK(stream.wait_readable(in(5s)));
        reader replies;
        CHECK(text(replies.next(stream, in(5s))) == "PONG");
    };
    check(hs::tcp_stream::connector("127.0.0.1", server.plain().port()).connect(in(5s)));
    check(tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s)));
}

TEST_CASE("deadlines and refusals", "[tls][stream][errors]") {
    SECTION("a read with nothing to read ends at its deadline with errc::timeout") {
        redis_tls_server server(certs());
        auto check = [](auto stream) {
            char buffer[64];
            const auto start = std::chrono::steady_clock::now();
            auto failure = error_of([&] { (void)stream.read_some(buffer, in(50ms)); });
            const auto took = std::chrono::steady_clock::now() - start;
            CHECK(failure.kind() == errc::timeout);
            CHECK_THAT(failure.message(), Catch::Contains(std::string(stream.address()) + ": read:"));
            CHECK(took >= 50ms);
            CHECK(took < 5s);
        };
        check(hs::tcp_stream::connector("127.0.0.1", server.plain().port()).connect(in(5s)));
        check(tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s)));
    }
    SECTION("a TLS handshake with a server that never answers ends at the deadline") {
        // a listening socket nobody accepts on: the kernel completes the TCP handshake, nothing answers the TLS one
        const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(listener >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t length = sizeof address;
        REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(listener, 4) == 0);
        REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        const auto start = std::chrono::steady_clock::now();
        auto failure = error_of([&] { (void)tls_to(ntohs(address.sin_port), trusting(certs().ca())).connect(in(100ms)); });
        ::close(listener);
        CHECK(failure.kind() == errc::timeout);
        CHECK_THAT(failure.message(), Catch::Contains("TLS handshake"));
        CHECK(std::chrono::steady_clock::now() - start < 5s);
    }
    SECTION("nothing listening: errc::connection, connection refused") {
        const auto port = hotstate::testing::free_port();
        auto failure = error_of([&] { (void)hs::tcp_stream::connector("127.0.0.1", port).connect(in(5s)); });
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains("127.0.0.1:" + std::to_string(port) + ": connect:"));
        CHECK_THAT(failure.message(), Catch::Contains("Connection refused"));
    }
    SECTION("a name that does not resolve") {
        auto failure = error_of([&] { (void)hs::tcp_stream::connector("no-such-host.invalid", 6379).connect(in(5s)); });
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains("cannot resolve 'no-such-host.invalid'"));
    }
    SECTION("a Unix socket that is not there") {
        const auto path = (certs().dir() / "no.sock").string();
        auto failure = error_of([&] { (void)hs::unix_stream::connector(path).connect(in(5s)); });
        CHECK(failure.kind() == errc::connection);
        CHECK_THAT(failure.message(), Catch::Contains(path));
    }
}

namespace {

/// After CLIENT KILL: writes PINGs (reading each reply) until a write fails, and
/// returns what that write counted. A write of which no byte left must say 0.
template <class S>
std::size_t written_by_failing_write(S& stream, redis_server& control) {
    reader replies;
    const std::string id = client_id(stream, replies);
    auto killed = control.command({"CLIENT", "KILL", "ID", id});
    REQUIRE(killed->integer == 1);
    REQUIRE(hotstate::testing::eventually([&] { return stream.peer_gone(); }, 5s));
    const std::string ping = encode({"PING"});
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::size_t written = 12345;
        try {
            stream.write_all(ping, in(5s), written);
        } catch (const hotstate::error& e) {
            CHECK(e.kind() == errc::connection);
            return written;
        }
        CHECK(written == ping.size());  // accepted by the kernel: it may have left
        try {
            (void)replies.next(stream, in(5s));
        } catch (const hotstate::error&) {
        }
    }
    FAIL("no write failed");
    return 0;
}

}  // namespace

TEST_CASE("write_all counts the bytes that may have reached the server", "[tls][stream][at-most-once]") {
    redis_tls_server server(certs());
    SECTION("a whole request: every byte") {
        auto stream = hs::tcp_stream::connector("127.0.0.1", server.plain().port()).connect(in(5s));
        const std::string ping = encode({"PING"});
        std::size_t written = 0;
        stream.write_all(ping, in(5s), written);
        CHECK(written == ping.size());
        auto tls = tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s));
        written = 0;
        tls.write_all(ping, in(5s), written);
        CHECK(written == ping.size());
    }
    SECTION("a peer that is gone: a failing write left nothing") {
        auto over_unix = hs::unix_stream::connector(server.plain().unix_socket_path().string()).connect(in(5s));
        CHECK(written_by_failing_write(over_unix, server.plain()) == 0);
        auto tcp = hs::tcp_stream::connector("127.0.0.1", server.plain().port()).connect(in(5s));
        CHECK(written_by_failing_write(tcp, server.plain()) == 0);
        auto tls = tls_to(server.tls_port(), trusting(certs().ca())).connect(in(5s));
        CHECK(written_by_failing_write(tls, server.plain()) == 0);
        hs::any_stream any(hs::unix_stream::connector(server.plain().unix_socket_path().string()).connect(in(5s)));
        CHECK(written_by_failing_write(any, server.plain()) == 0);
    }
    SECTION("a peer that stops reading: a timed-out write counts the part that left") {
        // a listening socket nobody accepts from: the kernel takes what fits its buffers, then nothing
        const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(listener >= 0);
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(listener, reinterpret_cast<const sockaddr*>(&local), sizeof local) == 0);
        REQUIRE(::listen(listener, 1) == 0);
        socklen_t length = sizeof local;
        REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&local), &length) == 0);
        auto stream = hs::tcp_stream::connector("127.0.0.1", ntohs(local.sin_port)).connect(in(5s));
        const std::string big(64 * 1024 * 1024, 'x');
        std::size_t written = 0;
        CHECK(error_of([&] { stream.write_all(big, in(200ms), written); }).kind() == errc::timeout);
        CHECK(written > 0);
        CHECK(written < big.size());
        ::close(listener);
    }
}
