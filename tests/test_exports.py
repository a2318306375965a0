"""Each export format written, then read back with its own library, gives the same events."""

from __future__ import annotations

import base64
import csv
import re
import shutil
import subprocess

import cv2
import numpy as np
import opentimelineio as otio
import pytest
import webvtt
from pympi.Elan import Eaf
from source_helpers import write_video

from streamer_core.exports import (
    EventFileError,
    export_events,
    hierarchy_events,
    read_events,
)
from streamer_core.hierarchy import hierarchy_json

DOC = hierarchy_json({"boundaries": {0: [0, 3.0, 7.5123, 61.25], 1: [0, 7.5123]}},
                     file="clip.mp4", duration=75.5)
SPANS = [[(0.0, 3.0), (3.0, 7.5123), (7.5123, 61.25), (61.25, 75.5)],
         [(0.0, 7.5123), (7.5123, 75.5)]]


def spans(doc: dict) -> list[list[tuple[float, float]]]:
    return [[(e.start, e.end) for e in events] for events in hierarchy_events(doc)]


def to_ms(layers):
    return [[(round(a * 1000), round(b * 1000)) for a, b in layer] for layer in layers]


def test_csv_has_a_row_per_event_and_reads_back(tmp_path):
    path = tmp_path / "events.csv"
    export_events(DOC, path)
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(int(r["layer"]), int(r["index"]), float(r["start"]), float(r["end"]))
            for r in rows] == [(layer, i, a, b) for layer, events in enumerate(SPANS)
                               for i, (a, b) in enumerate(events)]
    assert all(float(r["duration"]) == pytest.approx(float(r["end"]) - float(r["start"]))
               for r in rows)
    assert spans(read_events(path)) == SPANS


def test_vtt_chapters_are_the_top_layer_unless_one_is_chosen(tmp_path):
    top, bottom = tmp_path / "top.vtt", tmp_path / "bottom.vtt"
    export_events(DOC, top)
    export_events(DOC, bottom, layer=0)
    for path, layer in ((top, 1), (bottom, 0)):
        cues = webvtt.read(str(path)).captions
        assert [(c.start_time.in_milliseconds(), c.end_time.in_milliseconds())
                for c in cues] == to_ms(SPANS)[layer]
        assert cues[1].text == f"layer {layer} event 1"
        assert to_ms(spans(read_events(path))) == [to_ms(SPANS)[layer]]


def test_otio_has_a_track_per_layer_and_a_clip_per_event(tmp_path):
    path = tmp_path / "events.otio"
    export_events(DOC, path, video="/videos/clip.mp4")
    timeline = otio.adapters.read_from_file(str(path))
    assert [track.name for track in timeline.tracks] == ["layer 0", "layer 1"]
    for track, layer in zip(timeline.tracks, SPANS):
        clips = list(track.find_clips())
        np.testing.assert_allclose([(c.range_in_parent().start_time.to_seconds(),
                                     c.range_in_parent().end_time_exclusive().to_seconds())
                                    for c in clips], layer)
        assert clips[0].media_reference.target_url == "/videos/clip.mp4"
    for read, expected in zip(spans(read_events(path)), SPANS):
        np.testing.assert_allclose(read, expected)


def test_otio_keeps_the_gaps_between_events(tmp_path):
    doc = {"layers": [{"annots": [{"start": 2.0, "end": 3.0}, {"start": 5.0, "end": 9.0}]}]}
    path = tmp_path / "gaps.otio"
    export_events(doc, path)
    track = otio.adapters.read_from_file(str(path)).tracks[0]
    assert [type(item).__name__ for item in track] == ["Gap", "Clip", "Gap", "Clip"]
    assert spans(read_events(path)) == [[(2.0, 3.0), (5.0, 9.0)]]


def test_eaf_has_a_tier_per_layer_in_milliseconds(tmp_path):
    path = tmp_path / "events.eaf"
    export_events(DOC, path)
    eaf = Eaf(str(path))
    assert sorted(eaf.get_tier_names()) == ["layer 0", "layer 1"]
    for layer, expected in enumerate(to_ms(SPANS)):
        annotations = sorted(eaf.get_annotation_data_for_tier(f"layer {layer}"))
        assert [(a, b) for a, b, _ in annotations] == expected
        assert annotations[0][2] == f"layer {layer} event 0"
    assert to_ms(spans(read_events(path))) == to_ms(SPANS)


def test_html_report_embeds_a_keyframe_per_event(tmp_path):
    video = write_video(tmp_path / "clip.avi", frames=60, fps=10.0)  # 6 s
    doc = hierarchy_json({"boundaries": {0: [0, 2.0, 4.0], 1: [0]}}, file="clip.avi",
                         duration=8.0)  # the last layer-0 event's middle is past the end
    path = tmp_path / "report.html"
    export_events(doc, path, video=video)
    page = path.read_text()
    images = re.findall(r"src='data:image/jpeg;base64,([^']+)'", page)
    assert len(images) == 3  # layer 1's event (middle 4 s) and layer 0's first two
    pictures = [cv2.imdecode(np.frombuffer(base64.b64decode(i), np.uint8), cv2.IMREAD_COLOR)
                for i in images]
    assert all(p is not None and p.shape[1] == 192 for p in pictures)
    assert page.count("no picture") == 1
    assert "layer 1: 1 event<" in page and "layer 0: 3 events" in page
    assert "0:02.0 – 0:04.0 (2.0 s)" in page
    assert "http" not in page.replace("http://www.w3.org", "")  # nothing fetched


def test_html_report_can_show_a_sessions_kept_pictures_without_footage(tmp_path):
    ok, jpeg = cv2.imencode(".jpg", np.full((30, 40, 3), 200, np.uint8))
    path = tmp_path / "report.html"
    export_events(DOC, path, keyframes={(0, 1): jpeg.tobytes(), (1, 0): jpeg.tobytes()})
    page = path.read_text()
    assert page.count("data:image/jpeg;base64,") == 2 and page.count("no picture") == 4
    assert "keyframes: the pictures the session kept" in page


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (Debian: apt-get install chromium)")
def test_html_report_opens_in_headless_chromium_with_every_picture(tmp_path):
    video = write_video(tmp_path / "clip.avi", frames=60, fps=10.0)
    doc = hierarchy_json({"boundaries": {0: [0, 2.0, 4.0], 1: [0]}}, file="clip.avi",
                         duration=6.0)
    export_events(doc, tmp_path / "report.html", video=video)
    done = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
         (tmp_path / "report.html").as_uri()],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout  # the page as Chromium parsed it
    assert dom.count("<figure") == 4 and dom.count("<img") == 4
    assert "<h2>layer 1: 1 event</h2>" in dom


@pytest.mark.parametrize("name, kwargs, message", [
    ("x.txt", {}, "unknown export format .txt"),
    ("x", {}, "(no extension)"),
    ("x.vtt", {"layer": 2}, "layer 2 does not exist"),
    ("x.csv", {"layer": 0}, "for .vtt only"),
    ("x.html", {}, "needs the footage"),
    ("x.html", {"video": "/no/such/video.mp4"}, "video not found"),
])
def test_what_cannot_be_exported_is_refused_and_nothing_is_written(tmp_path, name, kwargs,
                                                                   message):
    with pytest.raises(EventFileError, match=re.escape(message)):
        export_events(DOC, tmp_path / name, **kwargs)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, text, message", [
    ("a.csv", "start,end\n1,2\n", "no column layer"),
    ("b.csv", "layer,start,end\n0,one,2\n", "line 2"),
    ("c.csv", "layer,start,end\n0,5,2\n", "0 <= start <= end"),
    ("d.csv", "layer,start,end\n", "no events"),
    ("e.eaf", "<not really xml", "not an ELAN file"),
    ("f.otio", "{}", "OpenTimelineIO"),
    ("g.vtt", "not a vtt", "not a WebVTT file"),
    ("h.txt", "", "events are read from"),
])
def test_a_malformed_events_file_says_what_is_wrong(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(EventFileError, match=re.escape(message)):
        read_events(path)
