// The laws over sharded<memcached> (two servers), and where its keys go: the
// shard the Redis backends' sharded store picks for the same key.
#include <string>
#include <tuple>

#include <hotstate/key.hpp>

#include "laws/model.hpp"
#include "memcached/sharded_memcached_fixture.hpp"

using hotstate_law_models = std::tuple<
    laws::model<sharded_memcached_fixture, laws::store_capabilities_without_prefix_erase, laws::differential>>;
#include "laws/store.hpp"

TEST_CASE("sharded<memcached>: each key on the shard xxh3_64(key) % n names, both shards used", "[memcached][sharded]") {
    sharded_memcached_fixture fixture;
    struct spread : hotstate::category<9, "mc-spread"> {};
    auto s = fixture.make_store<spread>();
    int on_first = 0;
    for (int i = 0; i < 200; ++i) {
        const std::string key = "k" + std::to_string(i);
        s->set<spread>(key, "v");
        const std::string encoded = hotstate::encode_key<spread>(key);
        const std::size_t expected = hotstate::backends::shard_of(encoded, 2);
        CHECK(s->backend().shard_index(encoded) == expected);
        // read from the shard alone: the key is there and not on the other
        CHECK(s->backend().shard(expected).kv_exists(encoded));
        CHECK_FALSE(s->backend().shard(1 - expected).kv_exists(encoded));
        on_first += expected == 0;
    }
    CHECK(on_first > 50);
    CHECK(on_first < 150);
}
