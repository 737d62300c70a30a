// A TCP proxy on a loopback port in front of a real server, which can cut
// every connection through it at once: what CLIENT KILL does for Redis, for
// servers that have no such command (memcached). A request cut after it was
// forwarded has reached the server and may have run; its reply never comes.
//
//   hotstate::testing::dropping_proxy proxy(server.port());
//   ... connect to 127.0.0.1:proxy.port() ...
//   proxy.drop_all();                      // every client sees its connection reset
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace hotstate::testing {

class dropping_proxy {
public:
    explicit dropping_proxy(std::uint16_t upstream_port) : upstream_(upstream_port) {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (listener_ < 0) throw std::runtime_error("dropping_proxy: socket");
        const int yes = 1;
        ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
            ::listen(listener_, 128) != 0)
            throw std::runtime_error("dropping_proxy: bind/listen");
        socklen_t size = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { loop(); });
    }
    dropping_proxy(const dropping_proxy&) = delete;
    dropping_proxy& operator=(const dropping_proxy&) = delete;
    ~dropping_proxy() {
        stop_.store(true);
        thread_.join();
        for (auto& p : pairs_) close_pair(p);
        ::close(listener_);
    }

    [[nodiscard]] std::uint16_t port() const noexcept { return port_; }
    /// Asks the proxy to reset every connection through it (done by its thread within a millisecond).
    void drop_all() noexcept { drop_.store(true); }
    /// Connections cut so far.
    [[nodiscard]] std::uint64_t drops() const noexcept { return drops_.load(); }

private:
    struct pair {
        int client = -1;
        int server = -1;
    };

    static void close_pair(pair& p) noexcept {
        // SO_LINGER 0: a reset, as CLIENT KILL's close looks to a client mid-request
        const linger hard{1, 0};
        if (p.client >= 0) {
            ::setsockopt(p.client, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
            ::close(p.client);
        }
        if (p.server >= 0) ::close(p.server);
        p.client = p.server = -1;
    }

    int connect_upstream() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(upstream_);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
            ::close(fd);
            return -1;
        }
        const int yes = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
        return fd;
    }

    /// Copies what `from` has to `to`; false when either side is done.
    static bool pump(int from, int to) {
        char buffer[64 * 1024];
        const ssize_t got = ::recv(from, buffer, sizeof buffer, MSG_DONTWAIT);
        if (got <= 0) return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        ssize_t sent = 0;
        while (sent < got) {
            const ssize_t n = ::send(to, buffer + sent, static_cast<std::size_t>(got - sent), MSG_NOSIGNAL);
            if (n <= 0) return false;
            sent += n;
        }
        return true;
    }

    void loop() {
        std::vector<pollfd> fds;
        while (!stop_.load()) {
            if (drop_.exchange(false)) {
                for (auto& p : pairs_) close_pair(p);
                drops_.fetch_add(pairs_.size());
                pairs_.clear();
            }
            fds.clear();
            fds.push_back({listener_, POLLIN, 0});
            for (const auto& p : pairs_) {
                fds.push_back({p.client, POLLIN, 0});
                fds.push_back({p.server, POLLIN, 0});
            }
            if (::poll(fds.data(), fds.size(), 1) <= 0) continue;
            if ((fds[0].revents & POLLIN) != 0) {
                const int client = ::accept4(listener_, nullptr, nullptr, 0);
                if (client >= 0) {
                    const int server = connect_upstream();
                    if (server < 0) {
                        ::close(client);
                    } else {
                        const int yes = 1;
                        ::setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
                        pairs_.push_back({client, server});
                    }
                }
            }
            std::vector<pair> alive;
            for (std::size_t i = 0; i < pairs_.size() && 1 + 2 * i + 1 < fds.size(); ++i) {
                pair p = pairs_[i];
                bool ok = true;
                if (fds[1 + 2 * i].revents != 0) ok = pump(p.client, p.server);
                if (ok && fds[2 + 2 * i].revents != 0) ok = pump(p.server, p.client);
                if (ok) alive.push_back(p);
                else close_pair(p);
            }
            for (std::size_t i = fds.size() > 1 ? (fds.size() - 1) / 2 : 0; i < pairs_.size(); ++i)
                alive.push_back(pairs_[i]);  // accepted during this round
            pairs_ = std::move(alive);
        }
    }

    std::uint16_t upstream_;
    std::uint16_t port_ = 0;
    int listener_ = -1;
    std::vector<pair> pairs_;
    std::atomic<bool> stop_{false};
    std::atomic<bool> drop_{false};
    std::atomic<std::uint64_t> drops_{0};
    std::thread thread_;
};

}  // namespace hotstate::testing
