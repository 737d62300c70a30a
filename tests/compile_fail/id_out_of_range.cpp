// A category id is one prefix byte.
#include <hotstate/category.hpp>

struct too_big : hotstate::category<256, "too-big"> {};
too_big instance;
