"""File > Export events…: the formats offered, the files written, footage for HTML only."""

from __future__ import annotations

import pympi
from gui_helpers import SLOW, open_window, wait_steps
from source_helpers import write_video


def script_events_dialog(window, answer):
    """The export dialog answers `answer` and records the formats it offered."""
    offered: list[list[str]] = []

    def save_events(suggestion: str, formats: dict[str, str]) -> str | None:
        offered.append(list(formats))
        return str(answer)

    window.dialogs.save_events = save_events
    return offered


def test_every_format_is_offered_and_html_shows_the_pictures_the_session_kept(qtbot,
                                                                             tmp_path):
    video = write_video(tmp_path / "clip.avi", frames=300, fps=10.0)
    window = open_window(qtbot, tmp_path, str(video))
    wait_steps(qtbot, window, 2)
    for name in ("events.eaf", "events.html"):
        offered = script_events_dialog(window, tmp_path / name)
        window.action_export_events.trigger()
        qtbot.waitUntil(lambda n=name: (tmp_path / n).exists(), timeout=SLOW)
        assert offered == [[".csv", ".vtt", ".otio", ".eaf", ".html"]]
    eaf = pympi.Eaf(str(tmp_path / "events.eaf"))
    assert "layer 0" in eaf.get_tier_names()
    assert eaf.media_descriptors[0]["MEDIA_URL"] == video.resolve().as_uri()
    page = (tmp_path / "events.html").read_text()
    pictures = page.count("data:image/jpeg;base64,")
    assert pictures >= 1 and pictures + page.count("no picture") == page.count("<figure")
    assert window.notifier.last is None or window.notifier.last.level != "error"


def test_an_unknown_extension_is_refused_and_a_camera_or_scene_exports_too(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "synthetic:0")
    wait_steps(qtbot, window, 2)
    script_events_dialog(window, tmp_path / "events.docx")
    window.action_export_events.trigger()
    assert window.notifier.last.title == "Events not exported"
    assert ".docx" in window.notifier.last.text
    script_events_dialog(window, tmp_path / "events.html")
    window.action_export_events.trigger()
    qtbot.waitUntil(lambda: (tmp_path / "events.html").exists(), timeout=SLOW)
    assert "data:image/jpeg;base64," in (tmp_path / "events.html").read_text()
    assert not (tmp_path / "events.docx").exists()
