#include <cstdio>

#include <hotstate/hotstate.hpp>

int main() {
    hotstate::store<hotstate::backends::memory, hotstate::categories::rate_limit_auth> store;
    const auto decision = store.check_rate<hotstate::categories::rate_limit_auth>(
        "192.0.2.1", hotstate::fixed_window{5, std::chrono::minutes{1}});
    std::printf("hotstate test_package: allowed=%d remaining=%lld\n", decision.allowed ? 1 : 0,
                static_cast<long long>(decision.remaining));
    return decision.allowed ? 0 : 1;
}
