// hotstate/detail/base/block_cache.hpp: small blocks reused per thread, for
// the objects every request makes and frees (asynchronous operations, reply
// objects): a free list per size class, no lock, bounded.
#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace hotstate::detail {

/// Small blocks reused per thread. With 64 requests in flight, malloc's own
/// per-thread cache (7 blocks of a size) overflows on every batch and each
/// operation pays a trip into the allocator's slow path; calloc (hiredis's
/// reply objects) never uses that cache at all. Here a thread keeps up to
/// `kept` blocks of each size class (128 to 1024 bytes) for reuse; larger
/// blocks go to the allocator. A block freed on another thread joins that
/// thread's cache. Users: asynchronous operations, reply objects.
class block_cache {
    static constexpr std::size_t classes = 4;
    static constexpr std::size_t kept = 512;
    struct node {
        node* next;
    };
    struct lists {
        node* head[classes]{};
        std::size_t count[classes]{};
        lists() = default;
        lists(const lists&) = delete;
        lists& operator=(const lists&) = delete;
        ~lists() {
            gone() = true;
            for (node* n : head)
                while (n != nullptr) ::operator delete(std::exchange(n, n->next));
        }
    };
    static bool& gone() noexcept {  // trivially destructible: readable while the thread's lists are destroyed
        thread_local bool dead = false;
        return dead;
    }
    static lists& mine() noexcept {
        thread_local lists cache;
        return cache;
    }
    static constexpr int class_of(std::size_t n) noexcept {
        return n <= 128 ? 0 : n <= 256 ? 1 : n <= 512 ? 2 : n <= 1024 ? 3 : -1;
    }

public:
    static void* allocate(std::size_t n) {
        const int c = class_of(n);
        if (c < 0 || gone()) return ::operator new(n);
        lists& l = mine();
        if (node* head = l.head[c]) {
            l.head[c] = head->next;
            --l.count[c];
            return head;
        }
        return ::operator new(std::size_t{128} << c);
    }
    static void deallocate(void* p, std::size_t n) noexcept {
        const int c = class_of(n);
        if (c < 0 || gone()) return ::operator delete(p);
        lists& l = mine();
        if (l.count[c] >= kept) return ::operator delete(p);
        l.head[c] = ::new (p) node{l.head[c]};
        ++l.count[c];
    }
};

}  // namespace hotstate::detail
