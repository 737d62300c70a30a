#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <hotstate/category.hpp>
#include <hotstate/detail/base/fast_hash.hpp>

namespace hotstate::detail {

/// An encoded key built on the stack: typical keys (an address, an IP, a token)
/// need no allocation on the hot path. Longer keys spill to the heap.
class key_buffer {
public:
    static constexpr std::size_t inline_capacity = 120;

    key_buffer(std::uint8_t id, key_layout layout, std::string_view key) { assign(id, layout, key, nullptr, 0); }
    key_buffer(std::uint8_t id, key_layout layout, std::string_view key, std::uint64_t be64_suffix) {
        char suffix[8];
        for (int i = 0; i < 8; ++i) suffix[i] = static_cast<char>((be64_suffix >> (56 - 8 * i)) & 0xff);
        assign(id, layout, key, suffix, sizeof suffix);
    }
    /// A copy with storage of its own (an asynchronous pipeline keeps copies of its operations).
    key_buffer(const key_buffer& other) : heap_(other.heap_), size_(other.size_) {
        if (size_ > inline_capacity)
            data_ = heap_.data();
        else
            std::memcpy(inline_, other.data_, size_);
    }
    key_buffer& operator=(const key_buffer&) = delete;

    [[nodiscard]] std::string_view view() const noexcept { return {data_, size_}; }
    operator std::string_view() const noexcept { return view(); }
    [[nodiscard]] std::string str() const { return std::string(view()); }

private:
    void assign(std::uint8_t id, key_layout layout, std::string_view key, const char* suffix, std::size_t suffix_size) {
        const bool tagged = layout == key_layout::hash_tagged;
        size_ = key.size() + 1 + (tagged ? 2 : 0) + suffix_size;
        if (size_ > inline_capacity) {
            heap_.resize(size_);
            data_ = heap_.data();
        }
        char* out = data_;
        if (tagged) *out++ = '{';
        *out++ = static_cast<char>(id);
        copy_chunked(out, key.data(), key.size());  // the pattern the memory backend's hash reads back
        out += key.size();
        if (tagged) *out++ = '}';
        if (suffix_size != 0) std::memcpy(out, suffix, suffix_size);
    }

    char inline_[inline_capacity];
    std::string heap_;
    char* data_ = inline_;
    std::size_t size_ = 0;
};

}  // namespace hotstate::detail
