// hotstate/error.hpp: the one error family of hotstate.
//
// Every failure surfaces as hotstate::error, a std::system_error whose code
// belongs to hotstate's own category. Messages name the operation and the key
// category (never the key bytes or a secret: keys are often tokens).
//
// A failure may leave an operation's outcome unknown: the request reached the
// server (or may have), and the connection broke or timed out before the reply
// came back. hotstate sends such a request again, once, on a fresh connection,
// only when running it twice has the effect of running it once (reads, set,
// erase, lookups, lock acquire / release / extend). When it cannot (an
// increment, a rate check, a take), or the second send fails too, the error is
// errc::connection or errc::timeout with outcome_unknown() true: the request
// may or may not have been applied, and only the caller can decide whether to
// look, repeat or give up. A lock acquire then also carries its owner token
// (lock_outcome_unknown), so the caller is never locked out by its own lease.
#pragma once

#include <string>
#include <system_error>
#include <utility>

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
    /// A failure of kind `code`; `message` says what failed and where.
    error(errc code, const std::string& message)
        : std::system_error(make_error_code(code), message), code_(code), message_(message) {}

    /// `cause` told with a new message (e.g. with more context): same kind, same outcome_unknown().
    error(const error& cause, const std::string& message)
        : std::system_error(make_error_code(cause.code_), message), code_(cause.code_), message_(message),
          outcome_unknown_(cause.outcome_unknown_) {}

    /// A failure after which the operation may or may not have been applied (see outcome_unknown()).
    [[nodiscard]] static error with_unknown_outcome(errc code, const std::string& message) {
        error made(code, message);
        made.outcome_unknown_ = true;
        return made;
    }

    /// The hotstate error kind, without going through std::error_code.
    [[nodiscard]] errc kind() const noexcept { return code_; }

    /// The message alone, without the ": <kind>" suffix what() carries.
    [[nodiscard]] const std::string& message() const noexcept { return message_; }

    /// Whether the operation may have been applied although it failed: its
    /// request may have reached the server before the connection broke or the
    /// reply timed out (kind() is errc::connection or errc::timeout, and the
    /// message says "outcome unknown"). True whenever that may be so, whatever
    /// the operation: one that must not run twice (an increment, a rate check,
    /// a take, a with_connection body) is never sent again behind the caller's
    /// back; one that is safe to repeat was sent again on a fresh connection and
    /// that failed too. False means the request certainly was not applied.
    /// A lock acquire reports it as lock_outcome_unknown, with its owner token.
    [[nodiscard]] bool outcome_unknown() const noexcept { return outcome_unknown_; }

private:
    errc code_;
    std::string message_;
    bool outcome_unknown_ = false;
};

/// A lock acquire whose outcome stayed unknown (outcome_unknown() is true):
/// its request may have taken the lock under owner_token(), and no reply came
/// back. Nobody else knows that token, so pass it to try_lock(key, lease,
/// owner_token) once the server answers: the lock comes back (its lease
/// renewed, its fence) if the lost acquire took it, nothing if another owner
/// holds it; or let the lease run out. Caught as hotstate::error too.
class lock_outcome_unknown : public error {
public:
    /// `cause` (outcome unknown), for the acquire that used `owner_token`.
    lock_outcome_unknown(const error& cause, std::string owner_token)
        : error(cause, cause.message() +
                           "; the lock may be held under the owner token this error carries (owner_token()): "
                           "try_lock with that token takes it back once the server answers, or its lease runs out"),
          owner_(std::move(owner_token)) {}

    /// The owner token the acquire was sent with (random, 128 bits, hex).
    [[nodiscard]] const std::string& owner_token() const noexcept { return owner_; }

private:
    std::string owner_;
};

}  // namespace hotstate

template <>
struct std::is_error_code_enum<hotstate::errc> : std::true_type {};
