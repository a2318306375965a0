"""The exported hierarchy covers the whole stream, whatever the boundaries."""

from streamer_core.evaluation import check_hierarchy, layer_boundaries
from streamer_core.hierarchy import boundaries_from_json, hierarchy_json


def test_a_stream_without_boundaries_is_one_event_per_layer():
    doc = hierarchy_json({"boundaries": {0: [0], 1: [0]}}, file="still.avi", duration=79.5)
    check_hierarchy(doc)
    for layer in doc["layers"]:
        assert [(a["start"], a["end"]) for a in layer["annots"]] == [(0.0, 79.5)]
    assert layer_boundaries(doc, 0) == []


def test_the_event_open_at_the_end_is_written():
    doc = hierarchy_json({"boundaries": {0: [0, 3.0, 7.5], 1: [0, 7.5]}}, file="f",
                         duration=10.0)
    assert [(a["start"], a["end"]) for a in doc["layers"][0]["annots"]] == [
        (0.0, 3.0), (3.0, 7.5), (7.5, 10.0)]
    assert doc["layers"][1]["annots"][-1]["end"] == 10.0
    assert boundaries_from_json(doc)[0] == [0.0, 3.0, 7.5, 10.0]
    assert layer_boundaries(doc, 0) == [3.0, 7.5]  # the end is no boundary


def test_a_boundary_at_the_end_adds_no_empty_event():
    doc = hierarchy_json({"boundaries": {0: [0, 5.0]}}, file="f", duration=5.0)
    assert [(a["start"], a["end"]) for a in doc["layers"][0]["annots"]] == [(0.0, 5.0)]


def test_an_upper_layer_is_not_cut_where_layer_0_last_ended():
    # The reference closes upper layers at layer 0's last boundary (extract_rep keeps that,
    # for parity); the export writes the open event instead, so it must not add that one.
    from core_helpers import small_model

    model, _ = small_model(init_layers=2)
    base, upper = model.layers()
    base.hierarchy_boundaries = [0, 2.0, 4.0, 6.5]
    upper.hierarchy_boundaries = [0, 4.0]
    assert model.extract_rep()["boundaries"][1] == [0, 4.0, 6.5]  # the reference's
    doc = hierarchy_json({"boundaries": model.event_boundaries()}, file="f", duration=8.0)
    assert layer_boundaries(doc, 1) == [4.0]
    assert [(a["start"], a["end"]) for a in doc["layers"][1]["annots"]] == [(0.0, 4.0),
                                                                           (4.0, 8.0)]
