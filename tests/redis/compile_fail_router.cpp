// routed_backend runs only over a Router: a type without execute() (here a
// router that forgot to say how it runs a body) is refused, naming the concept.
#include <hotstate/backends/redis.hpp>
#include <hotstate/clock.hpp>

struct no_execute_router {
    using config_type = hotstate::redis::config;
    static constexpr bool follows_redirects = false;
    static constexpr bool one_node = true;
    explicit no_execute_router(config_type) {}
    const config_type& settings() const noexcept;
    template <class Body>
    void for_each_master(std::string_view, Body&&) {}
};

void misuse() {
    hotstate::detail::redis::routing::routed_backend<no_execute_router, hotstate::system_clock> backend(
        hotstate::redis::config{});
    (void)backend.settings();
}
