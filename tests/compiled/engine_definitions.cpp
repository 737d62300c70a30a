// The one TU that compiles the engines the other TUs name through
// compiled<Engine>; a program has one like it.
#include <hotstate/backends/compiled_definitions.hpp>
#include <hotstate/backends/redis.hpp>
#include <hotstate/backends/redis_cluster.hpp>
#include <hotstate/backends/redis_sentinel.hpp>

template class hotstate::backends::compiled<hotstate::backends::redis>;
template class hotstate::backends::compiled<hotstate::backends::basic_redis<hotstate::manual_clock>>;
// Cluster and Sentinel: every member instantiates and links (their behaviour
// is the engines', run by tests/cluster and tests/sentinel).
template class hotstate::backends::compiled<hotstate::backends::redis_cluster>;
template class hotstate::backends::compiled<hotstate::backends::redis_sentinel>;
