// A redis-server owned by a test: started on a free loopback port in a fresh
// temporary directory, without persistence unless asked, waited for until it
// answers PING (with a deadline), stopped and its directory removed when the
// object dies. Restartable on the same port and directory.
//
//   hotstate::testing::redis_server server;                 // plain
//   hotstate::testing::redis_server secured({.requirepass = "s3cret"});
//   server.command({"SET", "k", "v"});                      // raw hiredis, for assertions
//   server.stop(); server.start();                          // an outage
//
// The building blocks (free_port, temp_directory, process) are reusable by
// fixtures that start several servers (a cluster) or redis-sentinel.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <hiredis/hiredis.h>

#include "support/eventually.hpp"
#include "support/loopback.hpp"
#include "support/process.hpp"

namespace hotstate::testing {

/// Frees a hiredis reply.
struct reply_deleter {
    void operator()(redisReply* reply) const noexcept {
        if (reply) freeReplyObject(reply);
    }
};
/// An owned hiredis reply.
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

/// A plain hiredis connection for assertions (no hotstate code involved).
class raw_client {
public:
    raw_client(const std::string& host, int port, std::string_view password = {}, std::string_view user = {}) {
        const timeval tv{5, 0};
        context_.reset(redisConnectWithTimeout(host.c_str(), port, tv));
        if (!context_ || context_->err)
            throw std::runtime_error("raw_client: cannot connect to " + host + ":" + std::to_string(port) +
                                     (context_ ? std::string(": ") + context_->errstr : std::string()));
        redisSetTimeout(context_.get(), tv);
        if (!password.empty()) {
            auto reply = user.empty() ? command({"AUTH", password}) : command({"AUTH", user, password});
            if (reply->type == REDIS_REPLY_ERROR) throw std::runtime_error("raw_client: AUTH refused");
        }
    }

    /// Sends one command (binary-safe arguments) and returns its reply; throws on I/O errors.
    reply_ptr command(std::initializer_list<std::string_view> args) { return command(std::vector<std::string_view>(args)); }
    reply_ptr command(const std::vector<std::string_view>& args) {
        std::vector<const char*> argv;
        std::vector<std::size_t> lengths;
        for (auto arg : args) {
            argv.push_back(arg.data());
            lengths.push_back(arg.size());
        }
        reply_ptr reply(static_cast<redisReply*>(
            redisCommandArgv(context_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data())));
        if (!reply) throw std::runtime_error(std::string("raw_client: ") + context_->errstr);
        return reply;
    }

    [[nodiscard]] redisContext* context() const noexcept { return context_.get(); }

private:
    struct context_deleter {
        void operator()(redisContext* context) const noexcept { redisFree(context); }
    };
    std::unique_ptr<redisContext, context_deleter> context_;
};

/// What a test wants of its server.
struct redis_server_options {
    /// Password of the default user (`requirepass`); empty: none.
    std::string requirepass{};
    /// ACL user lines, e.g. "alice on >wonderland ~* &* +@all" (each becomes `user <line>`).
    std::vector<std::string> acl_users{};
    /// Further redis.conf lines, e.g. "cluster-enabled yes".
    std::vector<std::string> extra_config{};
    /// Keep an AOF and RDB in the directory (off: nothing touches the disk).
    bool persistence = false;
    /// Also listen on a Unix socket `redis.sock` in the directory.
    bool unix_socket = false;
    /// The program: redis-server (or redis-sentinel with a matching config).
    std::string executable = "redis-server";
    /// How long start() waits for the first PONG.
    std::chrono::milliseconds start_deadline{10000};
};

/// A redis-server process on 127.0.0.1:port() owned by the test.
class redis_server {
public:
    explicit redis_server(redis_server_options options = {})
        : options_(std::move(options)), dir_("hotstate-redis") {
        // a port can be taken between free_port() and the server's bind: try a few
        for (int attempt = 0;; ++attempt) {
            port_ = free_port();
            try {
                start();
                return;
            } catch (const std::exception&) {
                if (attempt >= 4) throw;
            }
        }
    }
    redis_server(const redis_server&) = delete;
    redis_server& operator=(const redis_server&) = delete;
    ~redis_server() { stop(); }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    [[nodiscard]] std::string host() const { return "127.0.0.1"; }
    /// "redis://127.0.0.1:PORT" (no credentials).
    [[nodiscard]] std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_); }
    /// "127.0.0.1:PORT".
    [[nodiscard]] std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    [[nodiscard]] const std::filesystem::path& dir() const noexcept { return dir_.path(); }
    [[nodiscard]] std::filesystem::path unix_socket_path() const { return dir_.path() / "redis.sock"; }
    [[nodiscard]] const redis_server_options& options() const noexcept { return options_; }

    /// Starts the server (same port, same directory) and waits until it answers PING.
    void start() {
        if (process_.running()) return;
        write_config();
        process_ = process({options_.executable, (dir_.path() / "redis.conf").string()}, dir_.path() / "redis.log");
        const bool up = eventually([&] { return !process_.running() || answers_ping(); }, options_.start_deadline);
        if (!up || !process_.running()) {
            std::string log = process_.log();
            process_.stop();
            throw std::runtime_error("redis_server: " + options_.executable + " on port " + std::to_string(port_) +
                                     " did not come up; log:\n" + log);
        }
    }

    /// Stops the server (SIGTERM; SIGKILL after 5 s) and drops the assertion connection.
    void stop() noexcept {
        client_.reset();
        process_.stop();
    }

    /// Kills the server abruptly (SIGKILL), like a crash.
    void kill() noexcept {
        client_.reset();
        process_.kill();
    }

    void restart() {
        stop();
        start();
    }

    [[nodiscard]] bool running() { return process_.running(); }
    [[nodiscard]] process& child() noexcept { return process_; }
    [[nodiscard]] std::string log() const { return process_.log(); }

    /// Runs one raw command on a plain hiredis connection (authenticated as the
    /// default user when requirepass is set).
    reply_ptr command(std::initializer_list<std::string_view> args) { return client().command(args); }
    reply_ptr command(const std::vector<std::string_view>& args) { return client().command(args); }

    /// The assertion connection, opened on first use.
    raw_client& client() {
        if (!client_) client_.emplace(host(), port_, options_.requirepass);
        return *client_;
    }

private:
    void write_config() const {
        std::ofstream out(dir_.path() / "redis.conf", std::ios::trunc);
        out << "port " << port_ << "\n"
            << "bind 127.0.0.1\n"
            << "dir " << dir_.path().string() << "\n"
            << "daemonize no\n"
            << "loglevel notice\n"
            << "logfile \"\"\n";
        if (options_.persistence) {
            out << "appendonly yes\n"
                << "save 3600 1\n";
        } else {
            out << "save \"\"\n"
                << "appendonly no\n";
        }
        if (!options_.requirepass.empty()) out << "requirepass " << options_.requirepass << "\n";
        for (const auto& user : options_.acl_users) out << "user " << user << "\n";
        if (options_.unix_socket) out << "unixsocket " << unix_socket_path().string() << "\nunixsocketperm 700\n";
        for (const auto& line : options_.extra_config) out << line << "\n";
    }

    bool answers_ping() const {
        const timeval tv{1, 0};
        std::unique_ptr<redisContext, void (*)(redisContext*)> context(
            redisConnectWithTimeout("127.0.0.1", port_, tv), [](redisContext* c) { redisFree(c); });
        if (!context || context->err) return false;
        redisSetTimeout(context.get(), tv);
        reply_ptr reply(static_cast<redisReply*>(redisCommand(context.get(), "PING")));
        if (!reply) return false;
        if (reply->type == REDIS_REPLY_STATUS) return true;
        // an authenticated server refuses PING, but it is up; a loading one says LOADING
        return reply->type == REDIS_REPLY_ERROR && std::string_view(reply->str, reply->len).starts_with("NOAUTH");
    }

    redis_server_options options_;
    temp_directory dir_;
    std::uint16_t port_ = 0;
    process process_;
    std::optional<raw_client> client_;
};

/// How often `node` ran `command` (INFO commandstats; 0 before the first).
inline long long command_calls(redis_server& node, std::string_view command) {
    auto info = node.command({"INFO", "commandstats"});
    const std::string_view text(info->str, info->len);
    const std::string marker = "cmdstat_" + std::string(command) + ":calls=";
    const auto at = text.find(marker);
    if (at == std::string_view::npos) return 0;
    return std::stoll(std::string(text.substr(at + marker.size(), 20)));
}

}  // namespace hotstate::testing
