"""Keyframes on the timeline: thumbnails in the bands when zoomed in, a picture on hover."""

import numpy as np
from PySide6.QtCore import QPointF

from app.gui.controllers.session_history import SessionHistory
from app.gui.live.timeline_view import TimelineView
from app.session.keyframes import Keyframe, KeyframeStore, OpenKeyframe, encode_jpeg
from streamer_core import LayerStep


def coloured(value: int) -> np.ndarray:
    return np.full((60, 80, 3), value, np.uint8)


def session(events: int = 40, seconds: float = 5.0) -> tuple[SessionHistory, KeyframeStore]:
    """Layer 0 with an event every `seconds` and each event's keyframe."""
    history, store = SessionHistory(), KeyframeStore()
    steps_per_event = int(seconds / 0.5)
    for step in range(events * steps_per_event + 1):
        boundary = step > 0 and step % steps_per_event == 0
        history.add(LayerStep(0, step, step * 0.5, 0.5, 0.4, boundary))
        if boundary:
            index = step // steps_per_event - 1
            store.add(Keyframe(0, index, index * seconds, (index + 1) * seconds,
                               (index + 0.5) * seconds, encode_jpeg(coloured(index * 5))))
    store.set_current([OpenKeyframe(0, events, events * seconds, events * seconds,
                                    coloured(250))])
    return history, store


def open_timeline(qtbot, history, store) -> TimelineView:
    view = TimelineView(history, span=30.0, keyframes=store)
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    qtbot.waitExposed(view)
    view.set_following(False)
    return view


def shown_thumbnails(view: TimelineView) -> list[Keyframe]:
    strip = view.rows[0].keyframes
    return [k for item, k in zip(strip.items, strip.shown) if item.isVisible()]


def test_thumbnails_appear_where_there_is_room_and_not_when_zoomed_out(qtbot):
    history, store = session()
    view = open_timeline(qtbot, history, store)
    view._set_range(50.0, 80.0)  # 6 events of 5 s over ~900 px: room for each picture
    view.refresh()
    shown = shown_thumbnails(view)
    assert [k.start for k in shown] == [50.0, 55.0, 60.0, 65.0, 70.0, 75.0]
    item = view.rows[0].keyframes.items[0]
    assert item.image.shape == (60, 80, 3)
    assert abs(int(item.image.mean()) - 50) <= 3  # event 10's own picture
    assert item.mapRectToView(item.boundingRect()).left() >= 50.0

    view.show_whole_session()  # 40 events of a few pixels each: no pictures
    assert shown_thumbnails(view) == []


def test_hovering_an_event_shows_its_picture(qtbot):
    history, store = session()
    view = open_timeline(qtbot, history, store)
    view._set_range(0.0, 60.0)
    view.refresh()
    band = view.rows[0].band.getViewBox()
    point = band.mapViewToScene(QPointF(22.0, 0.5))
    layer, time = view.layer_at(point)
    assert layer == 0 and abs(time - 22.0) < 1e-6
    view.hover.moved(point)
    popup = view.hover.popup
    assert popup.isVisible()
    assert "event 5" in popup.caption.text() and "20.0-25.0 s" in popup.caption.text()
    assert popup.picture.pixmap().width() == 80

    view._set_range(160.0, 220.0)
    view.hover.moved(band.mapViewToScene(QPointF(201.0, 0.5)))  # the open event
    assert popup.isVisible()
    assert "open since 200.0 s" in popup.caption.text()
    view.hover.moved(QPointF(-50.0, -50.0))  # outside every row
    assert not popup.isVisible()
