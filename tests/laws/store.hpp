// Every law of the store's family, each run for the models of
// `hotstate_law_models` that state its capability (see laws/model.hpp):
//
//   using hotstate_law_models = std::tuple<laws::model<my_fixture, laws::store_capabilities>>;
//   #include "laws/store.hpp"
//
// Pipelines need hotstate/redis/batch.hpp (hiredis); without hiredis no
// backend can offer them, and their law is left out.
#pragma once

#include "laws/model.hpp"

#include "laws/counters.hpp"
#include "laws/differential.hpp"
#include "laws/key_value.hpp"
#include "laws/locks.hpp"
#include "laws/lookups.hpp"
#include "laws/queue.hpp"
#include "laws/rate_limits.hpp"
#include "laws/take.hpp"
#if __has_include(<hiredis/hiredis.h>)
#include "laws/pipelines.hpp"
#endif
