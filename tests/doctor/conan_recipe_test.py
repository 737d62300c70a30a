"""The Conan recipe packages hotstate-doctor: its steps, walked against a
stand-in of the Conan API (no Conan client can be installed on the build
machines), and checked against the CMake project it builds.

Fails when the recipe stops building or packaging the program, when the
headers-only variant starts to, or when the CMake options and target the
recipe names no longer exist. Usage: conan_recipe_test.py <source dir>
"""
import fnmatch
import importlib.util
import os
import re
import sys
import types

source = sys.argv[1]
calls = []


class Options(dict):
    def __getattr__(self, name):
        return self[name]


class Info:
    def __init__(self, options):
        self.options = options
        self.cleared = False

    def clear(self):
        self.cleared = True


class CppInfo:
    def __init__(self):
        self.components = {}
        self.bindirs = None
        self.libdirs = None

    def set_property(self, *args):
        pass


class Component:
    def __init__(self):
        self.requires = []
        self.system_libs = []

    def set_property(self, *args):
        pass


class Components(dict):
    def __missing__(self, key):
        self[key] = Component()
        return self[key]


class ConanFile:
    def __init__(self, with_doctor):
        self.options = Options(with_doctor=with_doctor)
        self.info = Info(self.options)
        self.cpp_info = CppInfo()
        self.cpp_info.components = Components()
        self.source_folder = source
        self.build_folder = "/build"
        self.package_folder = "/package"
        self.requirements_seen = []

    def requires(self, ref, **kwargs):
        self.requirements_seen.append(ref)

    def test_requires(self, ref):
        self.requirements_seen.append(ref)

    def tool_requires(self, ref):
        self.requirements_seen.append(ref)


class CMakeToolchain:
    def __init__(self, conanfile):
        self.cache_variables = {}
        self.variables = {}

    def generate(self):
        calls.append(("toolchain", dict(self.cache_variables)))


class Generator:
    def __init__(self, name):
        self.name = name

    def __call__(self, conanfile):
        name = self.name

        class G:
            def generate(self):
                calls.append((name,))

        return G()


class CMake:
    def __init__(self, conanfile):
        pass

    def configure(self):
        calls.append(("configure",))

    def build(self, target=None):
        calls.append(("build", target))


def copy(conanfile, pattern, src, dst, keep_path=True):
    calls.append(("copy", pattern, src, dst))


def module(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m


module("conan", ConanFile=ConanFile)
module("conan.errors", ConanInvalidConfiguration=Exception)
module("conan.tools")
module("conan.tools.build", check_min_cppstd=lambda *a: None, can_run=lambda *a: True)
module("conan.tools.cmake", CMake=CMake, CMakeDeps=Generator("CMakeDeps"), CMakeToolchain=CMakeToolchain,
       cmake_layout=lambda *a: None)
module("conan.tools.files", copy=copy)
module("conan.tools.gnu", PkgConfigDeps=Generator("PkgConfigDeps"))

spec = importlib.util.spec_from_file_location("recipe", os.path.join(source, "conanfile.py"))
recipe = importlib.util.module_from_spec(spec)
spec.loader.exec_module(recipe)
Recipe = recipe.HotstateConan
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)


def walk(with_doctor):
    calls.clear()
    r = Recipe.__new__(Recipe)
    ConanFile.__init__(r, with_doctor)
    for step in ("configure", "requirements", "build_requirements", "generate", "build", "package", "package_id",
                 "package_info"):
        getattr(r, step)()
    return r


# with the program (the default)
check(Recipe.default_options.get("with_doctor") is True, "with_doctor is on by default")
check(any(fnmatch.fnmatch("tools/doctor/main.cpp", p) for p in Recipe.exports_sources),
      "exports_sources include tools/ (the program's source)")
r = walk(True)
toolchains = [c[1] for c in calls if c[0] == "toolchain"]
check(toolchains and toolchains[0].get("HOTSTATE_BUILD_DOCTOR") is True, "the toolchain turns HOTSTATE_BUILD_DOCTOR on")
check(toolchains and toolchains[0].get("HOTSTATE_BUILD_TESTS") is False, "the toolchain turns the tests off")
check(("build", "hotstate-doctor") in calls, "build() builds the hotstate-doctor target")
check(any(c[0] == "copy" and c[1] == "hotstate-doctor" and c[3] == os.path.join("/package", "bin") for c in calls),
      "package() copies hotstate-doctor into bin/")
check(r.cpp_info.bindirs == ["bin"], "package_info() puts bin/ on the consumers' PATH")
check(not r.info.cleared, "the package id keeps the settings when a program is packaged")
check(getattr(r, "package_type", None) != "header-library", "a package with a program is not header-library")
check(any(ref.startswith("pkgconf/") for ref in r.requirements_seen), "pkg-config is a tool requirement of the build")

# the headers alone
r = walk(False)
check(not any(c[0] in ("build", "configure") for c in calls), "headers only: nothing is built")
check(not any(c[0] == "copy" and "doctor" in c[1] for c in calls), "headers only: no program is packaged")
check(r.cpp_info.bindirs == [], "headers only: no bin/")
check(r.info.cleared, "headers only: one package for every configuration")

# the CMake side of what the recipe names
top = open(os.path.join(source, "CMakeLists.txt")).read()
for option in ("HOTSTATE_BUILD_DOCTOR", "HOTSTATE_BUILD_TESTS", "HOTSTATE_BUILD_EXAMPLES", "HOTSTATE_BUILD_BENCH"):
    check(re.search(r"option\(" + option + r"\b", top), "CMakeLists.txt has option " + option)
tool = open(os.path.join(source, "tools", "doctor", "CMakeLists.txt")).read()
check("add_executable(hotstate-doctor" in tool, "tools/doctor builds the hotstate-doctor target")
test_package = open(os.path.join(source, "test_package", "conanfile.py")).read()
check('"hotstate-doctor --help"' in test_package, "test_package runs hotstate-doctor")

for failure in failures:
    print("FAILED:", failure)
print("conan recipe:", "ok" if not failures else "%d failures" % len(failures))
sys.exit(1 if failures else 0)
