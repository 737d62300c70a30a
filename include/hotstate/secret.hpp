// hotstate/secret.hpp: a string that is never printed.
//
// Passwords in configuration structs are `secret`s, not std::string, so every
// printer (to_string, hotstate/fmt.hpp, the field-list printer of the configs)
// shows them as *** because of their type, and a new secret field cannot be
// forgotten in one of them. The value is read with reveal(), which says at
// the call site that a secret leaves its wrapper (to be sent in AUTH).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace hotstate {

/// A password or key held as a string that no hotstate printer shows.
class secret {
public:
    /// An empty secret.
    secret() = default;
    /// Wraps `value`; implicit, so `.auth_secret = "..."` reads naturally.
    secret(std::string value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
    /// Wraps `value`.
    secret(const char* value) : value_(value) {}  // NOLINT(google-explicit-constructor)

    /// The secret itself, to hand to the server that checks it.
    [[nodiscard]] const std::string& reveal() const noexcept { return value_; }
    /// Whether it is the empty string.
    [[nodiscard]] bool empty() const noexcept { return value_.empty(); }

    /// Compares the values (for tests and config diffs; prints nothing).
    bool operator==(const secret&) const = default;
    /// Compares with a plain string, e.g. a value read back in a test.
    bool operator==(std::string_view other) const noexcept { return value_ == other; }

private:
    std::string value_;
};

/// Always "***": what every printout shows in place of a secret.
[[nodiscard]] constexpr std::string_view to_string(const secret&) noexcept { return "***"; }

}  // namespace hotstate
