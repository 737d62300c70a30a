// hotstate/redis/tls.hpp: TLS for the Redis engine (rediss://), on OpenSSL.
//
// Include it in one translation unit of a program that connects over TLS
// (and link OpenSSL::SSL; the hotstate CMake target does). That TU must be
// linked in: an object of a static library that nothing else references is
// dropped by the linker, and its installation with it. The settings type,
// redis::tls_options, is hotstate's one TLS settings type and needs no
// OpenSSL; this header compiles in the implementation, and the whole program's
// connections use it. Without it, loading TLS settings fails with
// errc::configuration naming this header. The JSON configuration, the doctor,
// the asynchronous engine and compiled<>'s definitions include it already.
#pragma once

#include <hotstate/detail/redis/io/tls_stream.hpp>
#include <hotstate/redis/node_settings.hpp>
