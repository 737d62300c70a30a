// Compact binary primitives shared by the value codec and the coordinator's
// wire format: LEB128 varints, zigzag for signed values, length-prefixed bytes.
// Readers never read past their input: truncation and overlong varints throw
// hotstate::error(errc::decode) naming the byte offset.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <hotstate/error.hpp>

namespace hotstate::detail {

inline void put_varint(std::string& out, std::uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

constexpr std::uint64_t zigzag_encode(std::int64_t value) noexcept {
    return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}
constexpr std::int64_t zigzag_decode(std::uint64_t value) noexcept {
    return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
}

inline void put_bytes(std::string& out, std::string_view bytes) {
    put_varint(out, bytes.size());
    out.append(bytes);
}

template <class T>
void put_fixed_le(std::string& out, T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    char raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    if constexpr (std::endian::native == std::endian::big) std::reverse(raw, raw + sizeof(T));
    out.append(raw, sizeof(T));
}

/// Reads the primitives back; every read checks the remaining length.
class wire_reader {
public:
    explicit wire_reader(std::string_view input, std::string_view what = "value") noexcept
        : input_(input), what_(what) {}

    std::uint64_t varint() {
        std::uint64_t result = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= input_.size()) fail("truncated varint");
            const auto byte = static_cast<std::uint8_t>(input_[pos_++]);
            if (shift == 63 && byte > 1) fail("varint overflows 64 bits");
            result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return result;
        }
        fail("varint longer than 10 bytes");
    }

    std::string_view bytes() {
        const std::uint64_t length = varint();
        if (length > input_.size() - pos_) fail("length prefix runs past the end");
        return take(static_cast<std::size_t>(length));
    }

    std::string_view take(std::size_t count) {
        if (count > input_.size() - pos_) fail("truncated");
        const auto piece = input_.substr(pos_, count);
        pos_ += count;
        return piece;
    }

    std::uint8_t byte() { return static_cast<std::uint8_t>(take(1)[0]); }

    template <class T>
    T fixed_le() {
        static_assert(std::is_trivially_copyable_v<T>);
        char raw[sizeof(T)];
        std::memcpy(raw, take(sizeof(T)).data(), sizeof(T));
        if constexpr (std::endian::native == std::endian::big) std::reverse(raw, raw + sizeof(T));
        T value;
        std::memcpy(&value, raw, sizeof(T));
        return value;
    }

    [[nodiscard]] bool at_end() const noexcept { return pos_ == input_.size(); }
    [[nodiscard]] std::size_t position() const noexcept { return pos_; }
    [[nodiscard]] std::size_t remaining() const noexcept { return input_.size() - pos_; }

    void expect_end() {
        if (!at_end()) fail("unexpected trailing bytes");
    }

    [[noreturn]] void fail(std::string_view reason) const {
        throw error(errc::decode, std::string("hotstate: cannot decode ") + std::string(what_) + ": " +
                                      std::string(reason) + " at byte " + std::to_string(pos_) +
                                      " of " + std::to_string(input_.size()));
    }

private:
    std::string_view input_;
    std::string_view what_;
    std::size_t pos_ = 0;
};

}  // namespace hotstate::detail
