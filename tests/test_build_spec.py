"""build.spec, run against stand-ins for PyInstaller's classes: no build, no PyInstaller.

The real build and its smoke test are `make package-test` (run by .ci/run).
"""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "build.spec"


class Recorder:
    """Records its arguments; an Analysis also gets TOCs for the spec to filter."""

    calls: list[Recorder] = []

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.binaries = [(dest, f"/src/{dest}", "BINARY") for dest in SAMPLE_BINARIES]
        self.datas = [(dest, f"/src/{dest}", "DATA") for dest in SAMPLE_DATAS]
        self.pure, self.scripts = [], []
        Recorder.calls.append(self)


SAMPLE_BINARIES = [
    "torch/lib/libtorch_cpu.so", "torch/lib/libc10.so", "torch/lib/libtorch_python.so",
    "torch/lib/libtorchbind_test.so", "torch/lib/libjitbackend_test.so",
    "torch/bin/torch_shm_manager", "torch/bin/test_api", "torch/bin/protoc",
    "torch/_C.cpython-311-x86_64-linux-gnu.so",
    "PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/platforms/libqwayland-egl.so",
    "PySide6/Qt/plugins/platforms/libqeglfs.so", "PySide6/Qt/plugins/platforms/libqvnc.so",
    "PySide6/Qt/plugins/platformthemes/libqgtk3.so",
    "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
    "PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so",
    "PySide6/Qt/plugins/imageformats/libqsvg.so",
    "PySide6/Qt/lib/libQt6WaylandClient.so.6", "libQt6WaylandClient.so.6",
    "PySide6/Qt/lib/libQt6XcbQpa.so.6", "PySide6/Qt/lib/libQt6Widgets.so.6",
    "cv2/cv2.abi3.so", "libxcb-cursor.so.0",
]
SAMPLE_DATAS = [
    "PySide6/Qt/translations/qtbase_de.qm", "torch/include/ATen/ATen.h",
    "torch/share/cmake/Torch/TorchConfig.cmake", "torch/test/test_api.txt",
    "cv2/data/haarcascade_frontalface_default.xml", "torchgen/packaged/ATen/native/tags.yaml",
    "resources/icon.svg", "torch/_inductor/codegen/common.py",
]
KEPT = {
    "torch/lib/libtorch_cpu.so", "torch/lib/libc10.so", "torch/lib/libtorch_python.so",
    "torch/bin/torch_shm_manager", "torch/_C.cpython-311-x86_64-linux-gnu.so",
    "PySide6/Qt/plugins/platforms/libqxcb.so", "PySide6/Qt/plugins/platforms/libqoffscreen.so",
    "PySide6/Qt/plugins/platformthemes/libqxdgdesktopportal.so",
    "PySide6/Qt/plugins/xcbglintegrations/libqxcb-glx-integration.so",
    "PySide6/Qt/plugins/imageformats/libqsvg.so",
    "PySide6/Qt/lib/libQt6XcbQpa.so.6", "PySide6/Qt/lib/libQt6Widgets.so.6",
    "cv2/cv2.abi3.so", "libxcb-cursor.so.0",
    "torchgen/packaged/ATen/native/tags.yaml", "resources/icon.svg",
    "torch/_inductor/codegen/common.py",
}


@pytest.fixture(scope="module")
def spec() -> dict:
    Recorder.calls = []
    names = {"SPECPATH": str(ROOT), "Analysis": Recorder, "PYZ": Recorder, "EXE": Recorder,
             "COLLECT": Recorder}
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), names)
    return names


def test_spec_bundles_the_resources_the_app_looks_for(spec):
    analysis = spec["a"]
    datas = analysis.kwargs["datas"]
    assert datas, "no data files"
    for src, _ in datas:
        assert Path(src).is_file(), f"{src} does not exist"
    # where app/gui/infrastructure/resources.py looks under sys._MEIPASS
    bundled = {Path(src).name for src, dest in datas if dest == "resources"}
    assert {"icon.svg", "icon.png", "default_settings.json"} <= bundled
    # where streamer_core.first_blocks looks for live's first blocks, beside the module
    assert ("streamer_core/data", "first_blocks.pt") in {(dest, Path(src).name)
                                                        for src, dest in datas}
    # where OpenTimelineIO looks for its adapters, beside its modules
    assert ("opentimelineio/adapters", "builtin_adapters.plugin_manifest.json") in {
        (dest, Path(src).name) for src, dest in datas}
    entry = Path(analysis.args[0][0])
    assert entry == ROOT / "app" / "__main__.py" and entry.is_file()


def test_spec_builds_one_dir_named_streamer_studio(spec):
    exe, coll = spec["exe"], spec["coll"]
    assert exe.kwargs["exclude_binaries"] is True  # one-dir: the binaries go to COLLECT
    assert exe.kwargs["name"] == coll.kwargs["name"] == "streamer-studio"
    assert exe.kwargs["console"] is True  # the CLI commands print to the terminal


def test_spec_excludes_only_modules_the_app_does_not_load(spec):
    excludes = spec["a"].kwargs["excludes"]
    assert {"tkinter", "tensorboard", "pytest", "streamer"} <= set(excludes)
    # `import torch` and the app load these: excluding them breaks the executable.
    for needed in ("torch", "sympy", "unittest", "torchgen", "numpy", "cv2", "pyqtgraph",
                   "PySide6.QtCore", "PySide6.QtGui", "PySide6.QtWidgets", "PySide6.QtSvg",
                   "PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtTest",
                   "streamer_core", "app", "opentimelineio", "webvtt", "pympi"):
        top = [e for e in excludes if needed == e or needed.startswith(e + ".")]
        assert not top, f"{needed} is excluded by {top}"


def test_spec_drops_test_binaries_translations_and_unused_platforms(spec):
    analysis = spec["a"]
    kept = {dest for dest, _, _ in analysis.binaries + analysis.datas}
    assert kept == KEPT, (f"dropped by mistake: {sorted(KEPT - kept)}; "
                          f"kept by mistake: {sorted(kept - KEPT)}")


def test_desktop_entry_names_the_executable_and_the_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(ROOT / "resources" / "streamer-studio.desktop", encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application"
    assert section["Exec"].split()[0] == "streamer-studio"
    assert section["Icon"] == "streamer-studio"
    assert section["Name"] and section["Categories"].endswith(";")

