"""PySceneDetect as a baseline: what a plain cut detector finds, scored like the model.

The detectors run with their default settings on a video file and give one layer of
events (between consecutive cuts, always covering the whole video), so that
streamer_core.evaluation.evaluate scores them exactly as it scores a learned hierarchy.
PySceneDetect is optional (the `bench` extra: `pip install scenedetect-headless`); nothing
else in the app needs it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2

from streamer_core.hierarchy import hierarchy_json
from streamer_core.sources import FrameSource, SourceError

from .montage import open_montage_writer

DETECTORS = ("content", "adaptive")  # ContentDetector, AdaptiveDetector
INSTALL_HINT = "pip install 'streamer-studio[bench]' (or scenedetect-headless)"


def scenedetect_available() -> bool:
    return importlib.util.find_spec("scenedetect") is not None


def detect_cuts(video: Path, detector: str) -> tuple[list[float], float]:
    """Cut times (s) by one default PySceneDetect detector, and the video's duration."""
    import scenedetect  # the optional extra: imported only when asked for

    detectors = {"content": scenedetect.ContentDetector,
                 "adaptive": scenedetect.AdaptiveDetector}
    if detector not in detectors:
        raise ValueError(f"unknown detector {detector!r}; choose from {', '.join(DETECTORS)}")
    try:
        stream = scenedetect.open_video(str(video))
    except Exception as err:  # PySceneDetect raises its own OSError subclasses and others
        raise SourceError(f"PySceneDetect cannot open {video}: {err}") from err
    manager = scenedetect.SceneManager()
    manager.add_detector(detectors[detector]())
    manager.detect_scenes(stream)
    scenes = manager.get_scene_list(start_in_scene=True)
    duration = stream.duration.seconds if stream.duration else 0.0
    return [start.seconds for start, _ in scenes[1:]], float(duration)


def scenedetect_hierarchy(video: Path, detector: str) -> dict:
    """The detector's cuts as a one-layer hierarchy doc over the whole video."""
    cuts, duration = detect_cuts(video, detector)
    bounds = [0.0, *(t for t in cuts if 0.0 < t < duration), duration]
    doc = hierarchy_json({"boundaries": {0: bounds}}, Path(video).name, duration)
    doc["layers"][0]["name"] = f"PySceneDetect {detector}"
    return doc


def write_video(source: FrameSource, out: Path) -> Path:
    """Every frame of a bounded source into an MJPG .avi at its frame rate (for detectors
    that read files, such as PySceneDetect)."""
    writer = None
    try:
        with source:
            for frame in source:
                if writer is None:
                    height, width = frame.image.shape[:2]
                    writer = open_montage_writer(out, source.fps or 10.0, (width, height))
                writer.write(cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
    finally:
        if writer is not None:
            writer.release()
    if writer is None:
        raise SourceError(f"{source.description}: no frame to write")
    return out
