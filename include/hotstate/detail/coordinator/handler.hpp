// An owning, move-only callable for event handlers.
//
// Handlers are registered once, before the coordinator starts, and then called
// for every delivered event. This holds one heap object and calls it through
// one function pointer: no virtual table, no std::function copy semantics, no
// allocation per call.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace hotstate::detail {

template <class... Args>
class unique_handler {
public:
    unique_handler() = default;

    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, unique_handler> && std::is_invocable_v<F&, Args...>)
    explicit unique_handler(F&& f)
        : object_(new std::remove_cvref_t<F>(std::forward<F>(f)), &destroy<std::remove_cvref_t<F>>),
          call_(&invoke<std::remove_cvref_t<F>>) {}

    void operator()(Args... args) const { call_(object_.get(), std::forward<Args>(args)...); }
    explicit operator bool() const noexcept { return call_ != nullptr; }

private:
    template <class F>
    static void destroy(void* object) noexcept { delete static_cast<F*>(object); }
    template <class F>
    static void invoke(void* object, Args... args) { (*static_cast<F*>(object))(std::forward<Args>(args)...); }

    std::unique_ptr<void, void (*)(void*) noexcept> object_{nullptr, nullptr};
    void (*call_)(void*, Args...) = nullptr;
};

}  // namespace hotstate::detail
