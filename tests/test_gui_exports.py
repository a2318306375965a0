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


def test_a_video_file_offers_every_format_and_exports_elan_and_html(qtbot, tmp_path):
    video = write_video(tmp_path / "clip.avi", frames=300, fps=10.0)
    window = open_window(qtbot, tmp_path, str(video))
    wait_steps(qtbot, window, 2)
    for name in ("events.eaf", "events.html"):
        offered = script_events_dialog(window, tmp_path / name)
        window.action_export_events.trigger()
        qtbot.waitUntil(lambda n=name: (tmp_path / n).exists(), timeout=SLOW)
        assert offered == [[".csv", ".vtt", ".otio", ".eaf", ".html"]]
    tiers = pympi.Eaf(str(tmp_path / "events.eaf")).get_tier_names()
    assert "layer 0" in tiers
    assert "data:image/jpeg;base64," in (tmp_path / "events.html").read_text()
    assert window.notifier.last is None or window.notifier.last.level != "error"


def test_without_footage_html_is_not_offered_and_refused_if_typed(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "synthetic:0")
    wait_steps(qtbot, window, 2)
    offered = script_events_dialog(window, tmp_path / "report.html")
    window.action_export_events.trigger()
    assert offered == [[".csv", ".vtt", ".otio", ".eaf"]]
    assert window.notifier.last.title == "Events not exported"
    assert "video file" in window.notifier.last.text
    script_events_dialog(window, tmp_path / "events.vtt")
    window.action_export_events.trigger()
    qtbot.waitUntil(lambda: (tmp_path / "events.vtt").exists(), timeout=SLOW)
    assert (tmp_path / "events.vtt").read_text().startswith("WEBVTT")
    assert not (tmp_path / "report.html").exists()
