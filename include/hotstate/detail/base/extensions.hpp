// hotstate/detail/base/extensions.hpp: the state capability add-ons (the job queues of
// hotstate/queue.hpp) keep inside an in-process backend, one object per add-on type.
#pragma once

#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace hotstate::detail {

// The address of extension_tag<T> names T without RTTI.
template <class T>
inline constexpr char extension_tag = 0;

/// One `T` per owner, made from `args` on first use and destroyed with the
/// registry; references handed out stay valid until then.
class extension_registry {
public:
    template <class T, class... Args>
    T& get_or_make(Args&&... args) {
        std::scoped_lock guard(mutex_);
        for (auto& [tag, object] : objects_)
            if (tag == &extension_tag<T>) return *static_cast<T*>(object.get());
        auto object = std::make_shared<T>(std::forward<Args>(args)...);
        T& made = *object;
        objects_.emplace_back(&extension_tag<T>, std::move(object));
        return made;
    }

private:
    std::mutex mutex_;
    std::vector<std::pair<const void*, std::shared_ptr<void>>> objects_;
};

}  // namespace hotstate::detail
