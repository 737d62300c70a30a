// hotstate/error.hpp: the one error family of hotstate.
//
// Every failure surfaces as hotstate::error, a std::system_error whose code
// belongs to hotstate's own category. Messages name the operation and the key
// category (never the key bytes or a secret: keys are often tokens).
#pragma once

#include <string>
#include <system_error>

namespace hotstate {

/// What kind of failure happened; stable values, safe to switch on.
enum class errc {
    invalid_argument = 1,  ///< caller passed a value the operation cannot accept
    configuration,         ///< malformed or unsupported configuration (URL, JSON, option)
    connection,            ///< server unreachable, connection dropped
    timeout,               ///< an operation or pool wait ran out of time
    authentication,        ///< server refused the credentials
    server,                ///< the server answered with an error reply
    wrong_type,            ///< the key holds a value of another kind (Redis WRONGTYPE)
    decode,                ///< stored or received bytes are not a valid encoding
    memory_limit,          ///< the store is full and refuses writes (noeviction)
    storage,               ///< the persistent storage failed (file, SQL)
};

/// The std::error_category of hotstate::errc.
inline const std::error_category& error_category() noexcept {
    struct category final : std::error_category {
        const char* name() const noexcept override { return "hotstate"; }
        std::string message(int value) const override {
            switch (static_cast<errc>(value)) {
                case errc::invalid_argument: return "invalid argument";
                case errc::configuration: return "configuration error";
                case errc::connection: return "connection error";
                case errc::timeout: return "timeout";
                case errc::authentication: return "authentication failed";
                case errc::server: return "server error";
                case errc::wrong_type: return "wrong type";
                case errc::decode: return "decode error";
                case errc::memory_limit: return "memory limit reached";
                case errc::storage: return "storage error";
            }
            return "unknown hotstate error";
        }
    };
    static const category instance;
    return instance;
}

inline std::error_code make_error_code(errc e) noexcept {
    return {static_cast<int>(e), error_category()};
}

/// The exception every hotstate operation throws.
class error : public std::system_error {
public:
    error(errc code, const std::string& message)
        : std::system_error(make_error_code(code), message), code_(code), message_(message) {}

    /// The hotstate error kind, without going through std::error_code.
    [[nodiscard]] errc kind() const noexcept { return code_; }

    /// The message alone, without the ": <kind>" suffix what() carries.
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

private:
    errc code_;
    std::string message_;
};

}  // namespace hotstate

template <>
struct std::is_error_code_enum<hotstate::errc> : std::true_type {};
