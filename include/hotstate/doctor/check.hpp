// hotstate/doctor/check.hpp: what the deployment doctor says about one thing
// it checked (a line of its report): the verdict, what was measured, and the
// rule it was held to. Public: programs read reports (doctor::examine) and the
// JSON output names these fields.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace hotstate::doctor {

/// The outcome of one check.
enum class verdict : std::uint8_t { pass, warn, fail };

/// "PASS", "WARN" or "FAIL".
[[nodiscard]] constexpr std::string_view to_string(verdict v) noexcept {
    return v == verdict::pass ? "PASS" : v == verdict::warn ? "WARN" : "FAIL";
}

/// One line of a report.
struct check {
    std::string server;    ///< "host:port", or "" for the deployment as a whole
    std::string name;      ///< "version", "maxmemory-policy", ...
    verdict result = verdict::pass;
    std::string measured;  ///< what the server reported, e.g. "allkeys-lru"
    std::string rule;      ///< what passes, e.g. "noeviction (volatile-* warns, allkeys-* fails)"
};

}  // namespace hotstate::doctor
