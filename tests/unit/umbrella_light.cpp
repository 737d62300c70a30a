// The umbrella header stays light: no hiredis, Asio or SQLite behind it.
#include <hotstate/hotstate.hpp>

#if defined(__HIREDIS_H) || defined(BOOST_ASIO_VERSION) || defined(SQLITE_VERSION)
#error "hotstate/hotstate.hpp pulled in hiredis, Asio or SQLite"
#endif

#include <catch2/catch.hpp>

TEST_CASE("umbrella: the core, the embedded backend and the coordinator in one include", "[unit]") {
    hotstate::store<hotstate::backends::memory, hotstate::categories::oauth> store;
    store.set<hotstate::categories::oauth>("code", "grant");
    CHECK(store.get<hotstate::categories::oauth>("code") == "grant");
    STATIC_REQUIRE(hotstate::Transport<hotstate::transports::local>);
}
