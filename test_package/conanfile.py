# Conan test_package: builds a tiny program against the packaged hotstate and,
# when the package holds hotstate-doctor (option with_doctor), runs it.
import os

from conan import ConanFile
from conan.tools.build import can_run
from conan.tools.cmake import CMake, cmake_layout


class HotstateTestPackage(ConanFile):
    settings = "os", "arch", "compiler", "build_type"
    generators = "CMakeDeps", "CMakeToolchain"

    def requirements(self):
        # run=True: the package's bin/ (hotstate-doctor) is on PATH under conanrun
        self.requires(self.tested_reference_str, run=True)

    def layout(self):
        cmake_layout(self)

    def build(self):
        cmake = CMake(self)
        cmake.configure()
        cmake.build()

    def test(self):
        if can_run(self):
            self.run(os.path.join(self.cpp.build.bindir, "test_package"), env="conanrun")
            if self.dependencies[self.tested_reference_str].options.with_doctor:
                self.run("hotstate-doctor --help", env="conanrun")
