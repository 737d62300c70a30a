# Finds hotstate's dependencies and defines imported targets for those that ship
# none on Debian 12 (hiredis, xxhash, libnats). Used by the build and by the installed
# hotstate-config.cmake alike, so both agree on what a consumer links.
include(CMakeFindDependencyMacro)

find_dependency(Boost 1.74)

find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  if(NOT TARGET PkgConfig::hotstate_hiredis)
    pkg_check_modules(hotstate_hiredis QUIET IMPORTED_TARGET GLOBAL hiredis)
  endif()
  if(NOT TARGET PkgConfig::hotstate_xxhash)
    pkg_check_modules(hotstate_xxhash QUIET IMPORTED_TARGET GLOBAL libxxhash)
  endif()
  # the NATS C client (nats.c, Debian libnats-dev): the NATS coordinator transports
  if(NOT TARGET PkgConfig::hotstate_nats)
    pkg_check_modules(hotstate_nats QUIET IMPORTED_TARGET GLOBAL libnats)
  endif()
endif()
find_package(OpenSSL 1.1.1 QUIET COMPONENTS SSL)
find_package(SQLite3 QUIET)
find_package(fmt QUIET)
find_package(nlohmann_json 3.10 QUIET)
