# Conan 2 recipe for hotstate, a header-only library, and its hotstate-doctor
# program (option with_doctor, on by default: the package then holds bin/
# hotstate-doctor built for the settings, and the package id depends on them;
# with_doctor=False is the headers alone, one package for every configuration).
# Kept consistent by hand with CMakeLists.txt: the same version, the same
# dependencies, and the same target names (hotstate::hotstate, hotstate::redis,
# hotstate::sqlite, hotstate::fmt, hotstate::json). No Conan client can be installed on the project's build
# machines, so this recipe is not exercised by CI; test_package/ is (the
# consumer_test_package CTest builds it against an install prefix, and it runs
# hotstate-doctor there as Conan's test() does), and tests/consumer's
# consumer_conan_recipe walks this recipe's steps against a stand-in Conan API.
from conan import ConanFile
from conan.errors import ConanInvalidConfiguration
from conan.tools.build import check_min_cppstd
from conan.tools.cmake import CMake, CMakeDeps, CMakeToolchain, cmake_layout
from conan.tools.files import copy
from conan.tools.gnu import PkgConfigDeps
import os


class HotstateConan(ConanFile):
    name = "hotstate"
    version = "0.1.0"
    description = "Short-lived shared state and cluster coordination for C++ servers"
    license = "MIT"
    topics = ("redis", "rate-limiting", "distributed-locks", "pubsub", "header-only")
    package_type = "header-library"
    settings = "os", "arch", "compiler", "build_type"
    options = {"with_doctor": [True, False]}
    default_options = {"with_doctor": True}
    exports_sources = "include/*", "cmake/*", "tools/*", "CMakeLists.txt", "LICENSE"
    no_copy_source = True

    def configure(self):
        # the program makes it more than headers: consumers still get include/
        # (package type "unknown" keeps the default headers+libs+run traits)
        if self.options.with_doctor:
            self.package_type = "unknown"

    def layout(self):
        cmake_layout(self)

    def generate(self):
        if not self.options.with_doctor:
            return
        toolchain = CMakeToolchain(self)
        toolchain.cache_variables["HOTSTATE_BUILD_TESTS"] = False
        toolchain.cache_variables["HOTSTATE_BUILD_EXAMPLES"] = False
        toolchain.cache_variables["HOTSTATE_BUILD_BENCH"] = False
        toolchain.cache_variables["HOTSTATE_BUILD_DOCTOR"] = True
        toolchain.generate()  # puts the generators folder (PkgConfigDeps' .pc files) on PKG_CONFIG_PATH
        CMakeDeps(self).generate()
        PkgConfigDeps(self).generate()

    def build(self):
        if not self.options.with_doctor:
            return
        cmake = CMake(self)
        cmake.configure()
        cmake.build(target="hotstate-doctor")

    def requirements(self):
        self.requires("boost/[>=1.74]", transitive_headers=True)
        self.requires("fmt/[>=9.1]", transitive_headers=True)
        self.requires("hiredis/[>=0.14]", transitive_headers=True)
        self.requires("xxhash/[>=0.8]", transitive_headers=True)
        self.requires("openssl/[>=1.1.1 <4]", transitive_headers=True)
        self.requires("sqlite3/[>=3.40]", transitive_headers=True)
        self.requires("cnats/[>=3.3]", transitive_headers=True)
        self.requires("nlohmann_json/[>=3.10]", transitive_headers=True)

    def build_requirements(self):
        self.test_requires("catch2/[>=2.13 <3]")
        if self.options.with_doctor:
            # CMakeLists.txt finds hiredis, xxhash and libnats with pkg-config
            self.tool_requires("pkgconf/[>=2.0]")

    def validate(self):
        check_min_cppstd(self, 20)

    def package_id(self):
        # headers alone: one package for every configuration; with the program,
        # one per os/arch/compiler/build type (the dependencies' versions are
        # the program's, so they stay in the id too)
        if not self.info.options.with_doctor:
            self.info.clear()

    def package(self):
        copy(self, "*.hpp", src=os.path.join(self.source_folder, "include"),
             dst=os.path.join(self.package_folder, "include"))
        if self.options.with_doctor:
            copy(self, "hotstate-doctor", src=self.build_folder, dst=os.path.join(self.package_folder, "bin"),
                 keep_path=False)
            copy(self, "hotstate-doctor.exe", src=self.build_folder, dst=os.path.join(self.package_folder, "bin"),
                 keep_path=False)

    def package_info(self):
        # bin/ is on the consumers' PATH (conanrun) when the program is packaged
        self.cpp_info.bindirs = ["bin"] if self.options.with_doctor else []
        self.cpp_info.libdirs = []
        self.cpp_info.set_property("cmake_file_name", "hotstate")

        core = self.cpp_info.components["core"]
        core.set_property("cmake_target_name", "hotstate::hotstate")
        core.requires = ["boost::headers"]
        core.system_libs = ["pthread"]

        redis = self.cpp_info.components["redis"]
        redis.set_property("cmake_target_name", "hotstate::redis")
        redis.requires = ["core", "hiredis::hiredis", "xxhash::xxhash", "openssl::ssl"]

        # the asynchronous store (async_store.hpp, backends/async_redis*.hpp, queue/async_worker.hpp):
        # Boost.Asio's C++20 coroutines, which the compiler must offer (g++ >= 10)
        asynchronous = self.cpp_info.components["async"]
        asynchronous.set_property("cmake_target_name", "hotstate::async")
        asynchronous.requires = ["redis"]

        # the formatters of hotstate/fmt.hpp: no other header includes {fmt}
        formatters = self.cpp_info.components["fmt"]
        formatters.set_property("cmake_target_name", "hotstate::fmt")
        formatters.requires = ["core", "fmt::fmt"]

        # the NATS transports (transports/nats.hpp, nats_jetstream.hpp)
        nats = self.cpp_info.components["nats"]
        nats.set_property("cmake_target_name", "hotstate::nats")
        nats.requires = ["core", "cnats::cnats"]

        # events as JSON, configuration from JSON, the deployment doctor: json_codec.hpp, json_config.hpp, doctor.hpp
        json = self.cpp_info.components["json"]
        json.set_property("cmake_target_name", "hotstate::json")
        json.requires = ["redis", "sqlite", "nlohmann_json::nlohmann_json"]

        sqlite = self.cpp_info.components["sqlite"]
        sqlite.set_property("cmake_target_name", "hotstate::sqlite")
        sqlite.requires = ["core", "sqlite3::sqlite3"]
