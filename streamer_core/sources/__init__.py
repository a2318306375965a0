"""Frame sources (camera, video file, network stream, synthetic), sampling and
preprocessing: how pictures become STREAMER inputs. No Qt here."""

from .base import Frame, FrameSource, SourceError
from .camera import CameraDevice, CameraSource, find_cameras, list_cameras
from .color import to_rgb
from .mailbox import LatestMailbox
from .preprocess import MODEL_SIZE, preprocess_frame
from .sampling import SnippetSampler, SnippetTaker
from .scene_plan import PlanSettings, ScenePlan
from .snippet_reader import LiveSnippetReader
from .spec import SPEC_HELP, open_source, parse_synthetic
from .stream import StreamSource
from .synthetic import SyntheticSource
from .video_file import VideoFileSource

__all__ = [
    "MODEL_SIZE", "SPEC_HELP", "CameraDevice", "CameraSource", "Frame", "FrameSource",
    "LatestMailbox", "LiveSnippetReader", "PlanSettings", "ScenePlan", "SnippetSampler",
    "SnippetTaker", "SourceError",
    "StreamSource", "SyntheticSource", "VideoFileSource", "find_cameras", "list_cameras",
    "open_source", "parse_synthetic", "preprocess_frame", "to_rgb",
]
