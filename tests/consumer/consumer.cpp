// A downstream program: the embedded store through the umbrella-free light path.
#include <chrono>
#include <cstdio>

#include <hotstate/backends/memory.hpp>
#include <hotstate/categories.hpp>
#include <hotstate/store.hpp>

int main() {
    hotstate::store<hotstate::backends::memory, hotstate::categories::oauth> store;
    store.set<hotstate::categories::oauth>("code", "grant", std::chrono::minutes{10});
    if (store.get<hotstate::categories::oauth>("code") != "grant") return 1;
    std::puts("consumer ok");
    return 0;
}
