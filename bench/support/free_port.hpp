// `<bench> free-port`: prints a loopback port nobody listens on, so the run.sh
// scripts can start their own servers without a fixed port.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>

namespace hotstate::bench {

/// Prints a free loopback TCP port; returns a process exit code.
inline int print_free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return 1;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                       ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    ::close(fd);
    if (!bound) return 1;
    std::printf("%d\n", ntohs(address.sin_port));
    return 0;
}

}  // namespace hotstate::bench
