"""Event representations in the hierarchy JSON, similarity search, and `similar` / `segment
--representations` end to end on seconds of synthetic video."""

from __future__ import annotations

import json

import numpy as np
import pytest
from source_helpers import SMALL_MODEL

from app.__main__ import main
from app.session.recorder import SessionRecorder
from streamer_core.event_representations import (
    add_representations,
    read_representations,
    representation_table,
)
from streamer_core.retrieval import (
    cosine_similarities,
    most_similar,
    precision_at_k,
    similar_rows,
    standardised,
)


def test_most_similar_ranks_by_cosine_and_leaves_the_query_out():
    vectors = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 0.1], [-1.0, 0.0], [0.0, 0.0]])
    assert cosine_similarities(vectors[0], vectors)[[0, 3, 4]] == pytest.approx([1, -1, 0])
    ranked = most_similar(vectors[0], vectors, k=3, exclude=0)
    assert [row for row, _ in ranked] == [2, 1, 4]
    assert ranked[0][1] == pytest.approx(2 / np.hypot(2, 0.1))


def test_precision_at_k_counts_same_label_neighbours():
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [0.5, 0.5]])
    labels = ["a", "a", "b", "b", "c"]  # "c" occurs once: skipped
    assert precision_at_k(vectors, labels, k=1) == 1.0
    assert precision_at_k(vectors, ["a", "b", "a", "b", "c"], k=1) == 0.0
    assert np.isnan(precision_at_k(vectors, list("vwxyz"), k=1))


def test_what_every_event_shares_does_not_drown_what_tells_them_apart():
    # Dimensions 0-2 are large in every event and vary at random; dimension 3 is small
    # and says the kind ("a" > 0, "b" < 0). Plain cosine sees the large ones; standardised,
    # every dimension weighs the same and the kind is found.
    rng = np.random.default_rng(0)
    labels = ["a", "b"] * 10
    vectors = np.stack([[*(100 + rng.normal(0, 10, 3)), 1 if label == "a" else -1]
                        for label in labels])
    assert precision_at_k(vectors, labels, k=3, standardise=False) < 0.65
    assert precision_at_k(vectors, labels, k=3) > 0.9
    assert [row for row, _ in similar_rows(vectors, 0, 3)] != \
        [row for row, _ in most_similar(vectors[0], vectors, 3, exclude=0)]


def test_standardised_columns_and_too_few_rows():
    vectors = np.array([[1.0, 5.0], [3.0, 5.0], [5.0, 5.0]])
    assert standardised(vectors)[:, 0] == pytest.approx([-1.2247, 0, 1.2247], abs=1e-4)
    assert standardised(vectors)[:, 1].tolist() == [0, 0, 0]  # no spread: says nothing
    assert standardised(vectors[:2]).tolist() == vectors[:2].tolist()


def _doc(*layers: list[tuple[float, float]]) -> dict:
    return {"duration": 3.0, "layers": [
        {"name": f"layer {n}", "order": n,
         "annots": [{"start": s, "end": e, "action": "N/A"} for s, e in events]}
        for n, events in enumerate(layers)]}


def test_representations_fill_the_slots_by_position_and_make_a_table():
    doc = _doc([(0, 1), (1, 2), (2, 3)], [(0, 2), (2, 3)])
    vectors = {0: [np.ones(4), None, np.arange(4.0)], 1: [np.full(4, 2.0)]}
    add_representations(doc, vectors)
    slots = [a["representation"] for layer in doc["layers"] for a in layer["annots"]]
    assert slots == [[1.0] * 4, "null", [0.0, 1.0, 2.0, 3.0], [2.0] * 4, "null"]
    back = read_representations(json.loads(json.dumps(doc)))
    assert back[0][1] == (1.0, 2.0, None) and back[1][0][2].tolist() == [2.0] * 4
    table = representation_table(doc)
    assert table["layer"].tolist() == [0, 0, 1] and table["index"].tolist() == [0, 2, 0]
    assert table["representation"].shape == (3, 4) and table["end"].tolist() == [1, 3, 2]


def test_a_representation_that_is_not_numbers_is_refused():
    doc = _doc([(0, 1)])
    doc["layers"][0]["annots"][0]["representation"] = "abc"
    with pytest.raises(ValueError, match="layer 0 event 0"):
        read_representations(doc)


@pytest.fixture(scope="module")
def with_representations(tmp_path_factory):
    folder = tmp_path_factory.mktemp("reps")
    out = folder / "pred.json"
    rc = main(["segment", "synthetic:1:4", *SMALL_MODEL, "--set", "demarcation_mode=fixed",
               "--set", "loss_threshold=0.999", "--set", "event_representation=summary",
               "--out", str(out), "--representations", "--quiet"])
    return rc, out


def test_segment_writes_representations_in_the_json_and_beside_it(with_representations):
    rc, out = with_representations
    assert rc == 0
    doc = json.loads(out.read_text())
    layer0 = doc["layers"][0]["annots"]
    assert len(layer0) >= 3  # fixed threshold 0.999: a boundary at almost every input
    vectors = [a["representation"] for a in layer0]
    assert all(isinstance(v, list) and len(v) == 32 for v in vectors)
    # similarity mode: L2-normalised, and each event its own summary
    assert [np.linalg.norm(v) for v in vectors] == pytest.approx([1.0] * len(vectors))
    assert len({tuple(v) for v in vectors}) == len(vectors)
    table = np.load(out.with_suffix(".npy"))
    first = table[(table["layer"] == 0) & (table["index"] == 0)][0]
    assert first["representation"] == pytest.approx(np.asarray(vectors[0], np.float32))
    assert (first["start"], first["end"]) == (layer0[0]["start"], layer0[0]["end"])


def test_similar_prints_k_events_best_first(with_representations, capsys):
    _, out = with_representations
    capsys.readouterr()
    assert main(["similar", str(out), "0:1", "-k", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    rows = [line.split("\t") for line in lines]
    assert all(row[0] == "0" and row[1] != "1" for row in rows)
    assert float(rows[0][4]) >= float(rows[1][4])


@pytest.mark.parametrize("reference, message", [
    ("7:0", "no layer 7"), ("0:99", "there is no event 99"), ("0-1", "is not LAYER:INDEX")])
def test_similar_bad_references_are_one_line_and_exit_2(with_representations, capsys,
                                                         reference, message):
    _, out = with_representations
    assert main(["similar", str(out), reference]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_similar_without_representations_is_an_error(tmp_path, capsys):
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps(_doc([(0, 1), (1, 3)])))
    assert main(["similar", str(plain), "0:0"]) == 2
    assert "no event representations" in capsys.readouterr().err


def test_similar_says_so_when_the_layer_has_no_other_event(tmp_path, capsys):
    doc = _doc([(0, 1), (1, 3)], [(0, 3)])
    add_representations(doc, {0: [np.ones(4), np.arange(4.0)], 1: [np.ones(4)]})
    alone = tmp_path / "alone.json"
    alone.write_text(json.dumps(doc))
    assert main(["similar", str(alone), "1:0"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and "no other event" in captured.err


def test_representations_need_an_out_file(capsys):
    assert main(["segment", "synthetic:1:1", "--representations", "--quiet"]) == 2
    assert "needs --out" in capsys.readouterr().err


def test_similar_reads_a_recorded_session_folder(tmp_path, capsys):
    """The app's recording: its hierarchy, and the representations it recorded as each
    event closed (matched to the events by their times)."""
    recorder = SessionRecorder(tmp_path / "session", 0.5, "synthetic:1")
    vectors = [np.array([1.0, 0.0, 0.2]), np.array([0.0, 1.0, 0.0]),
               np.array([0.9, 0.1, 0.3])]
    for i, (start, end) in enumerate([(0.0, 1.0), (1.0, 2.5), (2.5, 3.0)]):
        assert recorder.add_reports([], events=[(0, start, end, vectors[i])])
    recorder.set_hierarchy(_doc([(0, 1), (1, 2.5), (2.5, 3), (3, 4)]))
    recorder.close()
    capsys.readouterr()
    assert main(["similar", str(tmp_path / "session"), "0:0", "-k", "5"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert [row[1] for row in rows] == ["2", "1"]  # the open event 3-4 s has none
    assert main(["similar", str(tmp_path), "0:0"]) == 2
    assert "is not a recorded session" in capsys.readouterr().err
