// hotstate/backends/compiled_definitions.hpp: the code of compiled<Engine>.
//
// Include it, with the engine's header, in the one translation unit that
// instantiates the engines your program uses:
//
//   #include <hotstate/backends/compiled_definitions.hpp>
//   #include <hotstate/backends/redis.hpp>
//   template class hotstate::backends::compiled<hotstate::backends::redis>;
//
// Every member forwards to the engine; nothing here decides anything.
#pragma once

#include <utility>

#include <hotstate/backends/compiled.hpp>
#include <hotstate/redis/tls.hpp>  // the engine is compiled here once: TLS support costs nothing elsewhere

namespace hotstate::backends {

template <class Engine>
compiled<Engine>::compiled() : engine_(std::make_unique<Engine>()) {}

template <class Engine>
compiled<Engine>::compiled(config_type settings) : engine_(std::make_unique<Engine>(std::move(settings))) {}

template <class Engine>
compiled<Engine>::compiled(config_type settings, clock_type clock)
    : engine_(std::make_unique<Engine>(std::move(settings), std::move(clock))) {}

template <class Engine>
compiled<Engine>::compiled(compiled&&) noexcept = default;

template <class Engine>
compiled<Engine>& compiled<Engine>::operator=(compiled&&) noexcept = default;

template <class Engine>
compiled<Engine>::~compiled() = default;

template <class Engine>
auto compiled<Engine>::settings() const noexcept -> const config_type& {
    return engine_->settings();
}

template <class Engine>
time_point compiled<Engine>::now() const {
    return engine_->now();
}

template <class Engine>
void compiled<Engine>::ping() {
    engine_->ping();
}

template <class Engine>
void compiled<Engine>::kv_set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
    engine_->kv_set(key, value, ttl);
}

template <class Engine>
bool compiled<Engine>::kv_get_into(std::string_view key, detail::bytes_sink_ref sink) {
    return engine_->kv_get(key, sink);
}

template <class Engine>
bool compiled<Engine>::kv_del(std::string_view key) {
    return engine_->kv_del(key);
}

template <class Engine>
bool compiled<Engine>::kv_take_into(std::string_view key, detail::bytes_sink_ref sink) {
    return engine_->kv_take(key, sink);
}

template <class Engine>
bool compiled<Engine>::kv_exists(std::string_view key) {
    return engine_->kv_exists(key);
}

template <class Engine>
std::uint64_t compiled<Engine>::kv_del_prefix(std::string_view prefix) {
    return engine_->kv_del_prefix(prefix);
}

template <class Engine>
std::int64_t compiled<Engine>::counter_incr(std::string_view key, std::int64_t by, std::chrono::milliseconds expiry) {
    return engine_->counter_incr(key, by, expiry);
}

template <class Engine>
std::int64_t compiled<Engine>::counter_get(std::string_view key) {
    return engine_->counter_get(key);
}

template <class Engine>
rate_decision compiled<Engine>::gcra_check(std::string_view key, rate_math::gcra_parameters params,
                                           std::int64_t cost) {
    return engine_->gcra_check(key, params, cost);
}

template <class Engine>
std::optional<std::uint64_t> compiled<Engine>::lock_acquire(std::string_view key, std::string_view owner,
                                                            std::chrono::milliseconds lease) {
    return engine_->lock_acquire(key, owner, lease);
}

template <class Engine>
bool compiled<Engine>::lock_release(std::string_view key, std::string_view owner, std::uint64_t fence,
                                    release_attempt attempt) {
    return engine_->lock_release(key, owner, fence, attempt);
}

template <class Engine>
bool compiled<Engine>::lock_extend(std::string_view key, std::string_view owner, std::chrono::milliseconds lease) {
    return engine_->lock_extend(key, owner, lease);
}

template <class Engine>
bool compiled<Engine>::set_add(std::string_view key, std::string_view member) {
    return engine_->set_add(key, member);
}

template <class Engine>
bool compiled<Engine>::set_remove(std::string_view key, std::string_view member) {
    return engine_->set_remove(key, member);
}

template <class Engine>
bool compiled<Engine>::set_contains(std::string_view key, std::string_view member) {
    return engine_->set_contains(key, member);
}

template <class Engine>
void compiled<Engine>::map_set(std::string_view key, std::string_view field, std::string_view value) {
    engine_->map_set(key, field, value);
}

template <class Engine>
bool compiled<Engine>::map_get_into(std::string_view key, std::string_view field, detail::bytes_sink_ref sink) {
    return engine_->map_get(key, field, sink);
}

template <class Engine>
bool compiled<Engine>::map_remove(std::string_view key, std::string_view field) {
    return engine_->map_remove(key, field);
}

}  // namespace hotstate::backends
