#include <cstdio>
#include <string>

#include <hotstate/hotstate.hpp>

#ifdef HOTSTATE_DOCTOR_PROGRAM
/// Runs the packaged hotstate-doctor --help: true when it prints its usage.
static bool doctor_runs() {
    FILE* out = popen(HOTSTATE_DOCTOR_PROGRAM " --help", "r");
    if (out == nullptr) return false;
    std::string text;
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, out) != nullptr) text += buffer;
    return pclose(out) == 0 && text.rfind("usage: hotstate-doctor", 0) == 0;
}
#endif

int main() {
    hotstate::store<hotstate::backends::memory, hotstate::categories::rate_limit_auth> store;
    const auto decision = store.check_rate<hotstate::categories::rate_limit_auth>(
        "192.0.2.1", hotstate::fixed_window{5, std::chrono::minutes{1}});
#ifdef HOTSTATE_DOCTOR_PROGRAM
    const char* doctor = doctor_runs() ? " doctor=ok" : " doctor=missing";
#else
    const char* doctor = "";
#endif
    std::printf("hotstate test_package: allowed=%d remaining=%lld%s\n", decision.allowed ? 1 : 0,
                static_cast<long long>(decision.remaining), doctor);
    return decision.allowed ? 0 : 1;
}
