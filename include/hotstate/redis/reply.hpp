// hotstate/redis/reply.hpp: the one reply model of the Redis engine, and the
// integer argument every command formats on the stack.
//
// hiredis's redisReader parses RESP into redisReply trees; `reply` owns one
// and `reply_view` reads one (or an element of one) in place. Every layer that
// reads a reply -- command values, the exchange, routers, transports, the
// doctor -- reads it through reply_view, so a later reader (RESP3) only has to
// produce the same model. Protocol tier: no I/O here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include <hiredis/hiredis.h>

#include <hotstate/detail/redis/resp.hpp>

namespace hotstate::redis {

/// A parsed reply, or one element of an array reply, read in place (not
/// owned: valid while the `reply` it came from lives). What commands interpret.
class reply_view {
public:
    /// No reply.
    reply_view() = default;
    /// A view of `raw` (hiredis's parse; see reply).
    explicit reply_view(const redisReply* raw) noexcept : raw_(raw) {}

    /// Whether a reply is viewed.
    explicit operator bool() const noexcept { return raw_ != nullptr; }
    /// REDIS_REPLY_STRING, _ARRAY, _INTEGER, _NIL, _STATUS or _ERROR.
    [[nodiscard]] int type() const noexcept { return raw_->type; }
    /// An error reply (-ERR ...).
    [[nodiscard]] bool is_error() const noexcept { return raw_->type == REDIS_REPLY_ERROR; }
    /// A nil reply (missing key or field).
    [[nodiscard]] bool is_nil() const noexcept { return raw_->type == REDIS_REPLY_NIL; }
    /// An integer reply.
    [[nodiscard]] bool is_integer() const noexcept { return raw_->type == REDIS_REPLY_INTEGER; }
    /// A bulk string reply.
    [[nodiscard]] bool is_string() const noexcept { return raw_->type == REDIS_REPLY_STRING; }
    /// A status reply (+OK).
    [[nodiscard]] bool is_status() const noexcept { return raw_->type == REDIS_REPLY_STATUS; }
    /// An array reply.
    [[nodiscard]] bool is_array() const noexcept { return raw_->type == REDIS_REPLY_ARRAY; }
    /// String, status or error text, in place.
    [[nodiscard]] std::string_view text() const noexcept { return {raw_->str, raw_->len}; }
    /// The value of an integer reply.
    [[nodiscard]] long long integer() const noexcept { return raw_->integer; }
    /// The number of elements of an array reply (0 for any other).
    [[nodiscard]] std::size_t size() const noexcept { return raw_->type == REDIS_REPLY_ARRAY ? raw_->elements : 0; }
    /// Element `i` of an array reply (i < size()).
    [[nodiscard]] reply_view operator[](std::size_t i) const noexcept { return reply_view(raw_->element[i]); }
    /// hiredis's parse, for readers not yet moved to reply_view.
    [[nodiscard]] const redisReply* raw() const noexcept { return raw_; }

private:
    const redisReply* raw_ = nullptr;
};

/// An owned parsed reply (hiredis's, freed with freeReplyObject); read it as a reply_view.
class reply {
public:
    /// No reply.
    reply() = default;
    /// Takes ownership of `raw`.
    explicit reply(redisReply* raw) noexcept : raw_(raw) {}
    reply(const reply&) = delete;
    reply& operator=(const reply&) = delete;
    reply(reply&& other) noexcept : raw_(std::exchange(other.raw_, nullptr)) {}
    reply& operator=(reply&& other) noexcept {
        if (this != &other) {
            reset();
            raw_ = std::exchange(other.raw_, nullptr);
        }
        return *this;
    }
    ~reply() { reset(); }

    /// Whether a reply is held.
    explicit operator bool() const noexcept { return raw_ != nullptr; }
    /// The hiredis reply (still owned). Kept only for code that has not moved to reply_view yet.
    [[nodiscard]] redisReply* get() const noexcept { return raw_; }
    /// Member access to the hiredis reply; see get().
    redisReply* operator->() const noexcept { return raw_; }
    /// The reply, to read in place.
    [[nodiscard]] reply_view view() const noexcept { return reply_view(raw_); }
    /// The reply, to read in place (what commands take).
    operator reply_view() const noexcept { return view(); }

    /// REDIS_REPLY_STRING, _ARRAY, _INTEGER, _NIL, _STATUS or _ERROR.
    [[nodiscard]] int type() const noexcept { return raw_->type; }
    /// An error reply (-ERR ...).
    [[nodiscard]] bool is_error() const noexcept { return raw_->type == REDIS_REPLY_ERROR; }
    /// A nil reply (missing key or field).
    [[nodiscard]] bool is_nil() const noexcept { return raw_->type == REDIS_REPLY_NIL; }
    /// An integer reply.
    [[nodiscard]] bool is_integer() const noexcept { return raw_->type == REDIS_REPLY_INTEGER; }
    /// String, status or error text, in place (valid while the reply lives).
    [[nodiscard]] std::string_view text() const noexcept { return {raw_->str, raw_->len}; }
    /// The value of an integer reply.
    [[nodiscard]] long long integer() const noexcept { return raw_->integer; }
    /// The number of elements of an array reply (0 for any other).
    [[nodiscard]] std::size_t size() const noexcept { return view().size(); }
    /// Element `i` of an array reply (i < size()).
    [[nodiscard]] reply_view operator[](std::size_t i) const noexcept { return view()[i]; }

    /// Frees the reply now.
    void reset() noexcept {
        if (raw_) freeReplyObject(raw_);
        raw_ = nullptr;
    }

private:
    redisReply* raw_ = nullptr;
};

/// An integer argument formatted on the stack.
class int_arg {
public:
    /// Formats a signed value.
    explicit int_arg(std::int64_t value) noexcept {
        if (value >= 0) {
            size_ = static_cast<std::size_t>(
                detail::redis::write_decimal(buffer_, static_cast<std::size_t>(value)) - buffer_);
        } else {
            buffer_[0] = '-';
            // two's complement negation in unsigned arithmetic: exact for INT64_MIN too
            const auto magnitude = std::size_t{0} - static_cast<std::size_t>(value);
            size_ = static_cast<std::size_t>(detail::redis::write_decimal(buffer_ + 1, magnitude) - buffer_);
        }
    }
    /// Formats an unsigned value.
    explicit int_arg(std::uint64_t value) noexcept {
        size_ = static_cast<std::size_t>(detail::redis::write_decimal(buffer_, static_cast<std::size_t>(value)) - buffer_);
    }
    /// The decimal digits.
    [[nodiscard]] std::string_view view() const noexcept { return {buffer_, size_}; }
    /// The decimal digits, as a command argument.
    operator std::string_view() const noexcept { return view(); }

private:
    char buffer_[24];
    std::size_t size_ = 0;
};

}  // namespace hotstate::redis
