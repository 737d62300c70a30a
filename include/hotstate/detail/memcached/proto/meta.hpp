// hotstate/detail/memcached/proto/meta.hpp: memcached's meta protocol (mg, ms,
// md, ma, mn) without I/O: keys as the server takes them, command values that
// write their request and interpret their reply, and a reply parser that works
// on whatever bytes have arrived.
//
// Keys. memcached takes keys of at most 250 bytes with no space or control
// byte; hotstate's encoded keys start with a category's id byte and may hold
// any byte. A key whose bytes are all printable ASCII (0x21..0x7e) and that
// fits goes as it is; any other is sent base64-encoded with the meta `b` flag,
// which the server decodes, so the item's key is the same bytes either way
// (one key, two spellings on the wire, never two items). Base64 makes 3 bytes
// 4, so a key that needs it may be at most 186 bytes (248 characters). A
// longer key is refused with errc::invalid_argument naming the operation and
// the length: never truncated, never hashed (a hash would let two keys meet).
//
// TTLs. memcached counts TTLs in whole seconds and reads a number above 30
// days as a Unix time: a TTL is rounded up to seconds (never shorter than
// asked), and one longer than 30 days is sent as the Unix time it ends at.
//
// Replies. Every reply starts with a line "<RC> <flags>*\r\n"; "VA <size>
// <flags>*\r\n" is followed by a data block of <size> bytes and "\r\n". Error
// lines: "ERROR", "CLIENT_ERROR <text>", "SERVER_ERROR <text>". parse_reply
// reads one reply from the front of a buffer, or says it needs more bytes.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <memory>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <hotstate/detail/base/text.hpp>
#include <hotstate/error.hpp>

namespace hotstate::detail::memcached::proto {

using namespace std::string_view_literals;

// ---- requests ----------------------------------------------------------------

/// The bytes of a request, built by appending: a plain growable buffer (a
/// request is a few short appends on the hot path; std::string's appends
/// cost several times the copies themselves).
class request {
public:
    request() { reserve(256); }
    request(request&&) noexcept = default;
    request& operator=(request&&) noexcept = default;

    void clear() noexcept { size_ = 0; }
    void append(std::string_view bytes) {
        ensure(bytes.size());
        if (!bytes.empty()) std::memcpy(data_.get() + size_, bytes.data(), bytes.size());
        size_ += bytes.size();
    }
    void append(const char* bytes, std::size_t count) { append(std::string_view(bytes, count)); }
    void push_back(char c) {
        ensure(1);
        data_[size_++] = c;
    }
    [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }
    [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
    /// Drops a buffer a large value grew, keeping a small one.
    void shrink() {
        if (capacity_ > 64 * 1024) {
            data_.reset();
            capacity_ = size_ = 0;
            reserve(256);
        }
    }

private:
    void ensure(std::size_t more) {
        if (size_ + more > capacity_) [[unlikely]]
            reserve(std::max(capacity_ * 2, size_ + more));
    }
    void reserve(std::size_t capacity) {
        auto grown = std::make_unique<char[]>(capacity);
        if (size_ != 0) std::memcpy(grown.get(), data_.get(), size_);
        data_ = std::move(grown);
        capacity_ = capacity;
    }

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
    std::size_t capacity_ = 0;
};

// ---- keys ------------------------------------------------------------------

/// memcached's KEY_MAX_LENGTH: the longest key token a command may carry.
inline constexpr std::size_t key_limit = 250;
/// The longest key that must go base64-encoded: 4 * ceil(186 / 3) = 248 <= 250.
inline constexpr std::size_t binary_key_limit = 186;

/// Whether memcached takes `key` as it is: 1..250 printable ASCII bytes.
[[nodiscard]] constexpr bool is_plain_key(std::string_view key) noexcept {
    if (key.empty() || key.size() > key_limit) return false;
    for (const char c : key)
        if (c <= 0x20 || c >= 0x7f) return false;
    return true;
}

/// A key as written on the command line: its text and whether it is base64 (the `b` flag).
class wire_key {
public:
    /// `key` as memcached takes it; errc::invalid_argument naming `operation` when too long.
    wire_key(std::string_view key, std::string_view operation) {
        if (is_plain_key(key)) {
            size_ = key.size();
            for (std::size_t i = 0; i < size_; ++i) text_[i] = key[i];
            return;
        }
        if (key.size() > binary_key_limit) [[unlikely]]
            throw error(errc::invalid_argument,
                        std::string(operation) + ": the key is " + std::to_string(key.size()) +
                            " bytes; memcached takes at most " + std::to_string(key_limit) +
                            " printable ASCII bytes, or " + std::to_string(binary_key_limit) +
                            " bytes of any other kind (sent base64-encoded); hotstate never truncates a key");
        base64_ = true;
        size_ = encode_base64(key, text_);
    }

    /// The key's text on the command line.
    [[nodiscard]] std::string_view text() const noexcept { return {text_, size_}; }
    /// Whether the text is base64 (the command carries the `b` flag).
    [[nodiscard]] bool base64() const noexcept { return base64_; }

    /// Appends the key and, when needed, " b" (for commands whose flags follow the key).
    void write(request& out) const {
        out.append(text_, size_);
        write_flag(out);
    }
    /// Appends " b" when the key is base64 (ms: its flags follow the data length).
    void write_flag(request& out) const {
        if (base64_) out.append(" b"sv);
    }

private:
    static std::size_t encode_base64(std::string_view in, char* out) noexcept {
        constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        std::size_t n = 0;
        std::size_t i = 0;
        const auto byte = [&](std::size_t at) { return static_cast<unsigned>(static_cast<unsigned char>(in[at])); };
        for (; i + 3 <= in.size(); i += 3) {
            const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
            out[n++] = alphabet[(v >> 18) & 63];
            out[n++] = alphabet[(v >> 12) & 63];
            out[n++] = alphabet[(v >> 6) & 63];
            out[n++] = alphabet[v & 63];
        }
        if (const std::size_t rest = in.size() - i; rest != 0) {
            const unsigned v = (byte(i) << 16) | (rest == 2 ? byte(i + 1) << 8 : 0u);
            out[n++] = alphabet[(v >> 18) & 63];
            out[n++] = alphabet[(v >> 12) & 63];
            out[n++] = rest == 2 ? alphabet[(v >> 6) & 63] : '=';
            out[n++] = '=';
        }
        return n;
    }

    char text_[key_limit];
    std::size_t size_ = 0;
    bool base64_ = false;
};

// ---- TTLs ------------------------------------------------------------------

/// memcached reads an expiry above this many seconds as a Unix time.
inline constexpr std::int64_t relative_ttl_limit_s = 60 * 60 * 24 * 30;

/// The T token for `ttl` (zero: no expiry): whole seconds rounded up, or for
/// more than 30 days the Unix time (by `unix_now_s`) it ends at.
[[nodiscard]] constexpr std::int64_t ttl_token(std::chrono::milliseconds ttl, std::int64_t unix_now_s) noexcept {
    if (ttl.count() <= 0) return 0;
    const std::int64_t seconds = (ttl.count() + 999) / 1000;
    return seconds > relative_ttl_limit_s ? unix_now_s + seconds : seconds;
}

// ---- replies -----------------------------------------------------------------

/// A reply's return code.
enum class code : std::uint8_t {
    value,         ///< VA: a data block follows
    done,          ///< HD: success without a value
    miss,          ///< EN: mg found nothing
    not_found,     ///< NF: md/ma/ms with CAS found nothing
    not_stored,    ///< NS: ms in add mode found the key, or ma could not create
    exists,        ///< EX: the CAS given does not match the item's
    noop,          ///< MN: the answer to mn
    error,         ///< ERROR: the server did not know the command
    client_error,  ///< CLIENT_ERROR <text>
    server_error,  ///< SERVER_ERROR <text>
};

/// One reply, viewing the buffer it was parsed from.
struct reply {
    code status = code::done;
    /// The flags after the code (VA: after the size), e.g. "c12 f0 t-1".
    std::string_view flags;
    /// VA: the data block; errors: their text.
    std::string_view data;

    /// The token of returned flag `flag` ("c12" for 'c' gives "12"), if present.
    [[nodiscard]] std::optional<std::string_view> flag(char flag) const noexcept {
        std::string_view rest = flags;
        while (!rest.empty()) {
            const auto space = rest.find(' ');
            const std::string_view token = rest.substr(0, space);
            if (!token.empty() && token.front() == flag) return token.substr(1);
            if (space == std::string_view::npos) break;
            rest.remove_prefix(space + 1);
        }
        return std::nullopt;
    }
    /// The number of returned flag `flag`, if present and a number.
    template <class T = std::uint64_t>
    [[nodiscard]] std::optional<T> number(char flag) const noexcept {
        const auto token = this->flag(flag);
        if (!token) return std::nullopt;
        return parse_decimal<T>(*token);
    }
    [[nodiscard]] bool is_error() const noexcept {
        return status == code::error || status == code::client_error || status == code::server_error;
    }
};

/// What parse_reply found at the front of the buffer.
struct parsed {
    enum class state : std::uint8_t { complete, incomplete, malformed };
    state what = state::incomplete;
    reply answer{};
    std::size_t consumed = 0;  ///< complete: the reply's bytes
};

/// The largest data block a reply may announce (memcached's item size limit is at most 1 GiB).
inline constexpr std::size_t max_block = std::size_t{1} << 30;

/// Reads one reply from the front of `buffer`. The hot path (HD, EN, VA...)
/// is one memchr and a switch on the code's two letters; error lines are
/// told apart only when the code is none of them.
[[nodiscard]] inline parsed parse_reply(std::string_view buffer) noexcept {
    parsed result;
    const char* const data = buffer.data();
    const void* const newline = buffer.empty() ? nullptr : std::memchr(data, '\n', buffer.size());
    if (newline == nullptr) {
        // a status line is short; a long one without an end is not memcached talking
        if (buffer.size() > 8192) result.what = parsed::state::malformed;
        return result;
    }
    const std::size_t line_end = static_cast<std::size_t>(static_cast<const char*>(newline) - data);
    if (line_end < 3 || data[line_end - 1] != '\r') {
        result.what = parsed::state::malformed;
        return result;
    }
    const std::string_view line(data, line_end - 1);
    const std::size_t after_line = line_end + 1;
    const auto done = [&](code c, std::string_view flags, std::string_view block, std::size_t consumed) {
        result.what = parsed::state::complete;
        result.answer = reply{c, flags, block};
        result.consumed = consumed;
        return result;
    };
    const std::string_view flags = line.size() > 3 ? line.substr(3) : std::string_view{};
    if (line.size() == 2 || line[2] == ' ') {
        switch ((static_cast<unsigned>(static_cast<unsigned char>(line[0])) << 8) | static_cast<unsigned char>(line[1])) {
            case ('H' << 8) | 'D': return done(code::done, flags, {}, after_line);
            case ('E' << 8) | 'N': return done(code::miss, flags, {}, after_line);
            case ('N' << 8) | 'F': return done(code::not_found, flags, {}, after_line);
            case ('N' << 8) | 'S': return done(code::not_stored, flags, {}, after_line);
            case ('E' << 8) | 'X': return done(code::exists, flags, {}, after_line);
            case ('M' << 8) | 'N': return done(code::noop, flags, {}, after_line);
            case ('V' << 8) | 'A': {
                // "VA <size> <flags>*": the size, then the flags
                std::size_t at = 0;
                std::size_t size = 0;
                while (at < flags.size() && flags[at] >= '0' && flags[at] <= '9' && size <= max_block) {
                    size = size * 10 + static_cast<std::size_t>(flags[at] - '0');
                    ++at;
                }
                if (at == 0 || size > max_block || (at < flags.size() && flags[at] != ' ')) break;
                const std::size_t block_end = after_line + size;
                if (buffer.size() < block_end + 2) return result;  // the block has not all arrived
                if (data[block_end] != '\r' || data[block_end + 1] != '\n') break;
                return done(code::value, at < flags.size() ? flags.substr(at + 1) : std::string_view{},
                            buffer.substr(after_line, size), block_end + 2);
            }
            default: break;
        }
    }
    if (line.starts_with("CLIENT_ERROR"sv))
        return done(code::client_error, {}, line.size() > 13 ? line.substr(13) : std::string_view{}, after_line);
    if (line.starts_with("SERVER_ERROR"sv))
        return done(code::server_error, {}, line.size() > 13 ? line.substr(13) : std::string_view{}, after_line);
    if (line == "ERROR"sv) return done(code::error, {}, {}, after_line);
    result.what = parsed::state::malformed;
    return result;
}

// ---- commands ------------------------------------------------------------------
//
// Each command is a value: write() appends its request, interpret() turns its
// reply into its result, `idempotent` says whether a request that may have
// reached the server may be sent again (the pool's at-most-once rule). Error
// replies never reach interpret(): the connection turns them into errors.

namespace detail_write {
/// Appends `value` in decimal.
inline void decimal(request& out, std::uint64_t value) {
    char buffer[24];
    char* end = buffer + sizeof buffer;
    char* at = end;
    do {
        *--at = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0);
    out.append(at, static_cast<std::size_t>(end - at));
}
/// Appends " <flag><value>".
inline void number(request& out, char flag, std::uint64_t value) {
    out.push_back(' ');
    out.push_back(flag);
    decimal(out, value);
}
inline void signed_number(request& out, char flag, std::int64_t value) {
    if (value >= 0) return number(out, flag, static_cast<std::uint64_t>(value));
    out.push_back(' ');
    out.push_back(flag);
    out.append(std::to_string(value));
}
}  // namespace detail_write

/// What mg asks for: the value (v), the client flags (f), the CAS (c), the TTL left (t).
struct get {
    const wire_key& key;
    bool value = true;
    bool client_flags = false;
    bool cas = false;
    bool ttl = false;

    static constexpr bool idempotent = true;
    static constexpr std::string_view name = "mg";

    /// A hit: the item's value (when asked), client flags, CAS and TTL (-1: none).
    struct item {
        std::string_view value;
        std::uint32_t client_flags = 0;
        std::uint64_t cas = 0;
        std::int64_t ttl_s = -1;
    };
    using result_type = std::optional<item>;

    void write(request& out) const {
        out.append("mg "sv);
        key.write(out);
        if (value) out.append(" v"sv);
        if (client_flags) out.append(" f"sv);
        if (cas) out.append(" c"sv);
        if (ttl) out.append(" t"sv);
        out.append("\r\n"sv);
    }
    [[nodiscard]] result_type interpret(const reply& answer) const noexcept {
        if (answer.status != code::value && answer.status != code::done) return std::nullopt;
        item found;
        found.value = answer.data;
        if (client_flags) found.client_flags = answer.number<std::uint32_t>('f').value_or(0);
        if (cas) found.cas = answer.number('c').value_or(0);
        if (ttl) found.ttl_s = answer.number<std::int64_t>('t').value_or(-1);
        return found;
    }
};

/// How ms stores.
enum class store_mode : std::uint8_t { set, add };

/// What ms answered.
enum class stored : std::uint8_t {
    yes,        ///< HD
    not_stored, ///< NS: add mode, the key exists
    exists,     ///< EX: the CAS given does not match
    not_found,  ///< NF: a CAS was given and the item is gone
};

/// ms: stores `value` (TTL token `ttl`, client flags, add mode, compare CAS when not 0).
struct set {
    const wire_key& key;
    std::string_view value;
    std::int64_t ttl = 0;
    std::uint32_t client_flags = 0;
    store_mode mode = store_mode::set;
    std::uint64_t compare_cas = 0;

    static constexpr bool idempotent = true;  ///< plain sets; a caller with CAS or add decides for itself
    static constexpr std::string_view name = "ms";
    using result_type = stored;

    void write(request& out) const {
        out.append("ms "sv);
        out.append(key.text());
        out.push_back(' ');
        detail_write::decimal(out, value.size());  // the data length comes right after the key
        key.write_flag(out);
        if (ttl != 0) detail_write::signed_number(out, 'T', ttl);
        if (client_flags != 0) detail_write::number(out, 'F', client_flags);
        if (mode == store_mode::add) out.append(" ME"sv);
        if (compare_cas != 0) detail_write::number(out, 'C', compare_cas);
        out.append("\r\n"sv);
        out.append(value);
        out.append("\r\n"sv);
    }
    [[nodiscard]] result_type interpret(const reply& answer) const noexcept {
        switch (answer.status) {
            case code::done: return stored::yes;
            case code::not_stored: return stored::not_stored;
            case code::exists: return stored::exists;
            default: return stored::not_found;
        }
    }
};

/// What md answered.
enum class deleted : std::uint8_t { yes, not_found, exists };

/// md: deletes, only when the CAS matches if `compare_cas` is not 0.
struct remove {
    const wire_key& key;
    std::uint64_t compare_cas = 0;

    static constexpr bool idempotent = true;
    static constexpr std::string_view name = "md";
    using result_type = deleted;

    void write(request& out) const {
        out.append("md "sv);
        key.write(out);
        if (compare_cas != 0) detail_write::number(out, 'C', compare_cas);
        out.append("\r\n"sv);
    }
    [[nodiscard]] result_type interpret(const reply& answer) const noexcept {
        if (answer.status == code::done) return deleted::yes;
        if (answer.status == code::exists) return deleted::exists;
        return deleted::not_found;
    }
};

/// ma: adds `delta` (decrements when `decrement`: memcached stops at 0),
/// creating the item with `delta` as its value and TTL token `create_ttl` on a
/// miss when `create`; (re)applies TTL token `update_ttl` when not 0.
struct arithmetic {
    const wire_key& key;
    std::uint64_t delta = 1;
    bool create = true;
    std::int64_t create_ttl = 0;
    std::int64_t update_ttl = 0;
    bool decrement = false;

    static constexpr bool idempotent = false;
    static constexpr std::string_view name = "ma";
    /// The new value; nullopt when the item is missing (and not created).
    using result_type = std::optional<std::uint64_t>;

    void write(request& out) const {
        out.append("ma "sv);
        key.write(out);
        if (create) {
            detail_write::signed_number(out, 'N', create_ttl);
            // created on a miss with the delta as its value: an increment of 0
            if (!decrement) detail_write::number(out, 'J', delta);
        }
        detail_write::number(out, 'D', delta);
        if (update_ttl != 0) detail_write::signed_number(out, 'T', update_ttl);
        if (decrement) out.append(" MD"sv);
        out.append(" v\r\n"sv);
    }
    [[nodiscard]] result_type interpret(const reply& answer) const noexcept {
        if (answer.status != code::value) return std::nullopt;
        return parse_decimal<std::uint64_t>(answer.data);
    }
};

/// mn: answered by MN; a round trip that changes nothing (the pool's health check).
struct noop {
    static constexpr bool idempotent = true;
    static constexpr std::string_view name = "mn";
    using result_type = bool;

    void write(request& out) const { out.append("mn\r\n"sv); }
    [[nodiscard]] result_type interpret(const reply& answer) const noexcept { return answer.status == code::noop; }
};

/// The CLIENT_ERROR text of ma on an item that is not a decimal number.
inline constexpr std::string_view non_numeric = "cannot increment or decrement non-numeric value";
/// The SERVER_ERROR text of ms with a value above the item size limit (-I).
inline constexpr std::string_view too_large = "object too large for cache";

/// How an error reply counts as a hotstate error.
[[nodiscard]] inline errc kind_of(const reply& answer) noexcept {
    if (answer.status == code::client_error && answer.data == non_numeric) return errc::wrong_type;
    if (answer.status == code::server_error && answer.data == too_large) return errc::invalid_argument;
    if (answer.status == code::server_error && answer.data.starts_with("out of memory")) return errc::memory_limit;
    return errc::server;
}

/// "memcached ADDRESS: COMMAND: " (the start of every message).
[[nodiscard]] inline std::string context(std::string_view address, std::string_view command) {
    std::string text = "memcached ";
    text.append(address).append(": ").append(command).append(": ");
    return text;
}

/// The error for error reply `answer` to `command`, keeping the server's text.
[[nodiscard]] inline error server_error(std::string_view address, std::string_view command, const reply& answer) {
    std::string text = context(address, command);
    const errc kind = kind_of(answer);
    if (kind == errc::invalid_argument)
        text += "the value is larger than the server's item size limit (memcached -I; the doctor shows it): ";
    else if (kind == errc::wrong_type)
        text += "the value is not a decimal number: ";
    text += answer.status == code::error ? std::string_view("ERROR") : answer.data;
    return error(kind, text);
}

}  // namespace hotstate::detail::memcached::proto
