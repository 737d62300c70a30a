// Context of README fragments that continue "A first look": its umbrella
// include, the chrono literals and the `cat` alias of the seeds' categories.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <hotstate/hotstate.hpp>

using namespace std::chrono_literals;
namespace cat = hotstate::categories;
