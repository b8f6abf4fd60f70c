"""Builds the genmetrics wheel around the NativeAOT C library of the engine.

The native files come from GENMETRICS_LIBRARY_DIR (default: the publish folder of
`dotnet publish src/Engine -c Release -r linux-x64 -p:PublishAot=true -p:NativeLib=Shared`):
libgenmetrics.so (the loader) and its three builds, plus ONNX Runtime and Skia for genmetrics.features().
The version is the product's, read from Directory.Build.props. The wheel is tagged
py3-none-manylinux_2_X_x86_64, X being the newest glibc symbol version the shipped libraries need.
"""
import os
import re
import shutil

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py
from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LIBRARY_DIR = os.environ.get("GENMETRICS_LIBRARY_DIR") or os.path.join(ROOT, "src", "Engine", "bin", "Release", "net10.0", "linux-x64", "publish")
# The loader, the engine's three builds, and the native libraries the image pipeline loads.
NATIVE_FILES = ["libgenmetrics.so", "libgenmetrics-x86-64.so", "libgenmetrics-x86-64-v3.so", "libgenmetrics-x86-64-v4.so",
                "libonnxruntime.so", "libSkiaSharp.so"]


def product_version():
    with open(os.path.join(ROOT, "Directory.Build.props"), encoding="utf-8") as f:
        match = re.search(r"<Version>([^<]+)</Version>", f.read())
    if not match:
        raise SystemExit("setup.py: no <Version> in Directory.Build.props")
    return match.group(1).strip()


def native_paths():
    paths = [os.path.join(LIBRARY_DIR, name) for name in NATIVE_FILES]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise SystemExit("setup.py: missing " + ", ".join(missing) + "; publish the C library first: dotnet publish src/Engine "
                         "-c Release -r linux-x64 -p:PublishAot=true -p:NativeLib=Shared (or set GENMETRICS_LIBRARY_DIR)")
    return paths


def glibc_level(paths):
    """The newest GLIBC_2.N symbol version any of the libraries requires."""
    newest = 17  # manylinux2014's glibc 2.17 as the floor
    for path in paths:
        with open(path, "rb") as f:
            for minor in re.findall(rb"GLIBC_2\.(\d+)", f.read()):
                newest = max(newest, int(minor))
    return newest


class BuildPyWithNative(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "genmetrics")
        os.makedirs(target, exist_ok=True)
        for path in native_paths():
            shutil.copy2(path, os.path.join(target, os.path.basename(path)))
        with open(os.path.join(target, "_version.py"), "w", encoding="utf-8") as f:
            f.write(f'__version__ = "{product_version()}"\n')


class BinaryDistribution(Distribution):
    """Native files inside: a platform wheel, installed to platlib."""

    def has_ext_modules(self):
        return True


class PlatformWheel(bdist_wheel):
    def get_tag(self):
        # ctypes only: any Python 3, any ABI; the platform is the glibc and the architecture.
        return "py3", "none", f"manylinux_2_{glibc_level(native_paths())}_x86_64"


setup(version=product_version(), distclass=BinaryDistribution, cmdclass={"build_py": BuildPyWithNative, "bdist_wheel": PlatformWheel})
