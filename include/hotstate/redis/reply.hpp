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
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <utility>

#include <hiredis/hiredis.h>

#include <hotstate/detail/base/block_cache.hpp>
#include <hotstate/detail/redis/proto/resp.hpp>

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

}  // namespace hotstate::redis

namespace hotstate::detail::redis {

/// The reply objects hotstate's readers make (hiredis's redisReader parses,
/// these functions build what it parsed): a redisReply and its bytes (or its
/// element pointers) in one block of the per-thread block_cache, instead of
/// hiredis's calloc plus malloc per object (calloc never hits malloc's
/// per-thread cache: it cost a GET ~300 instructions). The same redisReply
/// layout, so reply_view reads either; only free_reply() frees these.
struct reply_objects {
    /// Bytes of the block of a reply of `type` with `len` bytes or `elements` elements.
    [[nodiscard]] static constexpr std::size_t block_size(int type, std::size_t len, std::size_t elements) noexcept {
        if (type == REDIS_REPLY_ARRAY) return sizeof(redisReply) + elements * sizeof(redisReply*);
        if (type == REDIS_REPLY_STRING || type == REDIS_REPLY_STATUS || type == REDIS_REPLY_ERROR)
            return sizeof(redisReply) + len + 1;
        return sizeof(redisReply);
    }

    /// Frees `raw` (made by these functions) and its elements.
    static void free_reply(redisReply* raw) noexcept {
        if (raw == nullptr) return;
        if (raw->type == REDIS_REPLY_ARRAY)
            for (std::size_t i = 0; i < raw->elements; ++i) free_reply(raw->element[i]);
        block_cache::deallocate(raw, block_size(raw->type, raw->len, raw->elements));
    }

    static const redisReplyObjectFunctions* functions() noexcept {
        static redisReplyObjectFunctions made{&string, &array, &integer, &nil, &free_object};
        return &made;
    }

private:
    static redisReply* make(const redisReadTask* task, int type, std::size_t len, std::size_t elements) {
        void* block = block_cache::allocate(block_size(type, len, elements));
        auto* r = static_cast<redisReply*>(block);
        *r = redisReply{};
        r->type = type;
        if (task->parent != nullptr) {
            auto* parent = static_cast<redisReply*>(task->parent->obj);
            parent->element[task->idx] = r;
        }
        return r;
    }
    static void* string(const redisReadTask* task, char* text, std::size_t len) {
        try {
            redisReply* r = make(task, task->type, len, 0);
            char* bytes = reinterpret_cast<char*>(r + 1);
            if (len != 0) std::memcpy(bytes, text, len);
            bytes[len] = '\0';
            r->str = bytes;
            r->len = len;
            return r;
        } catch (...) {
            return nullptr;  // hiredis reports out of memory
        }
    }
    static void* array(const redisReadTask* task, int elements) {
        try {
            const auto count = static_cast<std::size_t>(elements > 0 ? elements : 0);
            redisReply* r = make(task, REDIS_REPLY_ARRAY, 0, count);
            r->element = count != 0 ? reinterpret_cast<redisReply**>(r + 1) : nullptr;
            for (std::size_t i = 0; i < count; ++i) r->element[i] = nullptr;
            r->elements = count;
            return r;
        } catch (...) {
            return nullptr;
        }
    }
    static void* integer(const redisReadTask* task, long long value) {
        try {
            redisReply* r = make(task, REDIS_REPLY_INTEGER, 0, 0);
            r->integer = value;
            return r;
        } catch (...) {
            return nullptr;
        }
    }
    static void* nil(const redisReadTask* task) {
        try {
            return make(task, REDIS_REPLY_NIL, 0, 0);
        } catch (...) {
            return nullptr;
        }
    }
    static void free_object(void* raw) { free_reply(static_cast<redisReply*>(raw)); }
};

}  // namespace hotstate::detail::redis

namespace hotstate::detail::redis {
class reply_reader;
}  // namespace hotstate::detail::redis

namespace hotstate::redis {

/// An owned parsed reply (made by a detail::redis::reply_reader); read it as a reply_view.
class reply {
public:
    /// No reply.
    reply() = default;
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
        detail::redis::reply_objects::free_reply(raw_);
        raw_ = nullptr;
    }

private:
    friend class detail::redis::reply_reader;
    /// Takes ownership of `raw`, made by a reply_reader's reply objects.
    explicit reply(redisReply* raw) noexcept : raw_(raw) {}

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

namespace hotstate::detail::redis {

/// hiredis's redisReader building reply_objects: what every connection parses
/// replies with. Feed it bytes, take the replies it completed.
class reply_reader {
public:
    /// A reader; throws std::bad_alloc when hiredis cannot make one.
    reply_reader() : reader_(redisReaderCreateWithFunctions(const_cast<redisReplyObjectFunctions*>(reply_objects::functions()))) {
        if (!reader_) throw std::bad_alloc();
    }
    /// Hands `bytes` to the parser; false on a protocol error (error_text() says which).
    [[nodiscard]] bool feed(const char* bytes, std::size_t size) noexcept {
        return redisReaderFeed(reader_.get(), bytes, size) == REDIS_OK;
    }
    /// The next complete reply into `out` (empty when none is complete yet);
    /// false on a protocol error.
    [[nodiscard]] bool next(::hotstate::redis::reply& out) noexcept {
        void* raw = nullptr;
        if (redisReaderGetReply(reader_.get(), &raw) != REDIS_OK) return false;
        out = ::hotstate::redis::reply(static_cast<redisReply*>(raw));
        return true;
    }
    /// hiredis's description of the last protocol error.
    [[nodiscard]] const char* error_text() const noexcept { return reader_->errstr; }

private:
    struct free_reader {
        void operator()(redisReader* r) const noexcept { redisReaderFree(r); }
    };
    std::unique_ptr<redisReader, free_reader> reader_;
};

}  // namespace hotstate::detail::redis
