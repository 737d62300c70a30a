// hotstate/detail/config/files.hpp: the files a configuration reads or names
// (the document itself, a secret's file, TLS certificates and keys), checked
// and read with the system's own reason for a failure ("No such file or
// directory", "Permission denied"), and read only up to a bound, so a wrong
// path to a large file costs an error rather than memory.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <hotstate/detail/redis/proto/url_text.hpp>

namespace hotstate::detail::config {

/// The most a configuration document (and a secret's file) may hold: 1 MiB.
/// A configuration is a few kilobytes; a parsed document takes several times
/// its size in memory, so a file given by mistake (a log, a database) is
/// refused before it is read whole.
inline constexpr std::size_t max_document_bytes = std::size_t{1} << 20;

/// A path in a message: quoted, non-printable bytes escaped, bounded.
[[nodiscard]] inline std::string shown_path(std::string_view path) {
    return "'" + ::hotstate::detail::redis::url_text::quote(path, 1024, "'") + "'";
}

/// Why `path` cannot be used as a readable regular file (with `directory`, a
/// readable directory), as a message naming it ("cannot read the CA file
/// '/x': No such file or directory", "'/x' is not a file"); nullopt when it
/// can. `what` ("the CA file ", or "") goes before the path.
[[nodiscard]] inline std::optional<std::string> file_problem(const std::string& path, bool directory = false,
                                                             std::string_view what = {}) {
    struct stat info {};
    const auto cannot_read = [&] {
        return "cannot read " + std::string(what) + shown_path(path) + ": " + std::generic_category().message(errno);
    };
    if (::stat(path.c_str(), &info) != 0) return cannot_read();
    if (directory ? !S_ISDIR(info.st_mode) : !S_ISREG(info.st_mode))
        return std::string(what) + shown_path(path) + (directory ? " is not a directory" : " is not a file");
    if (::access(path.c_str(), directory ? (R_OK | X_OK) : R_OK) != 0) return cannot_read();
    return std::nullopt;
}

/// What read_bounded found.
struct bounded_read {
    /// The contents, when the file was read whole within the bound.
    std::optional<std::string> content;
    /// Otherwise: the system's reason ("No such file or directory"), or empty when too_large.
    std::string reason;
    /// The file holds more than the bound.
    bool too_large = false;
};

/// Reads `path` (a file, or a pipe such as /dev/fd/N) when it holds at most
/// `limit` bytes; never reads more than limit + 1.
[[nodiscard]] inline bounded_read read_bounded(const std::string& path, std::size_t limit = max_document_bytes) {
    bounded_read out;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        out.reason = std::generic_category().message(errno);
        return out;
    }
    std::string content;
    char buffer[16384];
    for (;;) {
        const ::ssize_t got = ::read(fd, buffer, sizeof buffer);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            out.reason = std::generic_category().message(errno);
            ::close(fd);
            return out;
        }
        if (got == 0) break;
        content.append(buffer, static_cast<std::size_t>(got));
        if (content.size() > limit) {
            out.too_large = true;
            ::close(fd);
            return out;
        }
    }
    ::close(fd);
    out.content = std::move(content);
    return out;
}

}  // namespace hotstate::detail::config
