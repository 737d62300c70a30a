// A sink that keeps the raw messages a transport delivers: what went on the wire.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <hotstate/detail/coordinator/wire.hpp>
#include <hotstate/transport.hpp>

namespace coord_test {

/// Records the raw messages it is given (a transport's sink; thread-safe).
struct wire_tap {
    std::mutex mutex;
    std::vector<std::string> messages;
    void on_message(std::string_view m) {
        std::lock_guard lock(mutex);
        messages.emplace_back(m);
    }
    void on_outage(const hotstate::transport_outage&) {}
    void on_connection(const hotstate::connection_event&) {}
    /// The payloads of the events of every (binary) message seen.
    std::vector<std::string> payloads() {
        std::lock_guard lock(mutex);
        std::vector<std::string> out;
        for (const auto& m : messages) {
            hotstate::detail::message_header header;
            std::vector<hotstate::detail::event_view> events;
            hotstate::detail::parse_message(m, header, events);
            for (const auto& e : events) out.emplace_back(e.payload);
        }
        return out;
    }
};

}  // namespace coord_test
