// A user-defined coordinator event. A struct made with BOOST_HANA_DEFINE_STRUCT
// needs this one Boost.Hana header, nothing from hotstate: hotstate encodes it
// field by field, in declaration order (append new fields at the end).
#pragma once

#include <cstdint>
#include <string>

#include <boost/hana/define_struct.hpp>

/// An account went over its mail quota: every node refuses deliveries to it.
struct quota_exceeded {
    BOOST_HANA_DEFINE_STRUCT(quota_exceeded,
        (std::string, account),
        (std::uint64_t, used_bytes),
        (std::uint64_t, limit_bytes));
};
