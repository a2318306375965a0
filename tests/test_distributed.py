"""Two gloo ranks on the CPU: weight averaging by the reference's rule, a whole distributed
run of `segment --manifest --distributed`, and a rank that dies."""

from __future__ import annotations

import copy
import json
import os
import socket
import sys
import types
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from source_helpers import SMALL_MODEL

from reference_impl import reference
from streamer_core.checkpoint import load_checkpoint

TINY = ["--set", "feature_dim=16", *SMALL_MODEL[2:], "--threads", "1", "--quiet"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_rank(rank: int, port: int) -> None:
    """The environment torchrun gives a worker."""
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE="2",
                      MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))


def run_ranks(target, *args) -> list[int]:
    """Two processes (not mp.spawn: it kills the others when one fails, and a rank that
    dies is what one test is about); their exit codes."""
    port = free_port()
    context = mp.get_context("spawn")
    ranks = [context.Process(target=target, args=(rank, port, *args)) for rank in range(2)]
    for process in ranks:
        process.start()
    for process in ranks:
        process.join(timeout=120)
        if process.is_alive():
            process.kill()
    return [process.exitcode for process in ranks]


def parameters(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


# --- averaging: the rule, against the reference ----------------------------------------

def averaging_rank(rank: int, port: int, folder: str) -> None:
    from app.cli.distributed import WeightAveraging, start_process_group
    from app.cli.model_setup import new_model

    torch.set_num_threads(1)
    as_rank(rank, port)
    start_process_group("cpu", timeout_s=60)
    report = {}
    # Different weights on each rank (another seed), as after learning on other videos.
    model, _ = new_model("paper", ["feature_dim=16", "buffer_size=4"], device="cpu", seed=rank)
    before = parameters(model)
    everyone = [None, None]
    dist.all_gather_object(everyone, before)
    mean = {name: (everyone[0][name] + everyone[1][name]) / 2 for name in before}
    with reference() as ref:  # its average_models, on a copy of the same weights
        expected = copy.deepcopy(model)
        ref.optimizer.StreamerOptimizer.average_models(types.SimpleNamespace(
            model=expected, args=types.SimpleNamespace(world_size=2)))
    averaging = WeightAveraging(lambda: model, average_every=3)
    averaging.after_step()
    averaging.after_step()
    report["averaged_early"] = averaging.averagings  # not before 3 steps
    averaging.after_step()
    after = parameters(model)
    report["averagings"] = averaging.averagings
    report["changed"] = any(not torch.equal(before[n], after[n]) for n in before)
    report["as_reference"] = all(torch.equal(after[n], p.detach())
                                 for n, p in expected.named_parameters())
    report["is_mean"] = max(float((after[n] - mean[n]).abs().max()) for n in after)
    dist.all_gather_object(everyone, after)
    report["same_on_both"] = all(torch.equal(everyone[0][n], everyone[1][n]) for n in after)

    # One more layer on rank 1: the round skips the averaging, as the reference does.
    model, _ = new_model("paper", ["feature_dim=16", "buffer_size=4",
                                   f"init_layers={1 + rank}"], device="cpu", seed=rank)
    before = parameters(model)
    unequal = WeightAveraging(lambda: model, average_every=1)
    unequal.after_step()
    report["unequal_skipped"] = unequal.skipped_unequal
    report["unequal_unchanged"] = all(torch.equal(before[n], p)
                                      for n, p in parameters(model).items())
    Path(folder, f"rank{rank}.json").write_text(json.dumps(report))
    dist.destroy_process_group()


def test_two_ranks_average_to_the_mean_as_the_reference_does(tmp_path):
    assert run_ranks(averaging_rank, str(tmp_path)) == [0, 0]
    for rank in range(2):
        report = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert report["averaged_early"] == 0 and report["averagings"] == 1
        assert report["changed"] and report["as_reference"] and report["same_on_both"]
        assert report["is_mean"] < 1e-6
        assert report["unequal_skipped"] == 1 and report["unequal_unchanged"]


# --- a whole run, and a rank that dies ----------------------------------------------------

def noting(calls: Path, name: str):
    """torch.distributed's `name`, noting each call in the file `calls` as it is made (a
    finished rank ends its process without returning)."""
    real = getattr(dist, name)

    def noted(*args, **kwargs):
        with calls.open("a") as file:
            file.write(name + ",")
        return real(*args, **kwargs)
    return noted


def calls_noted(path: Path) -> str:
    return path.read_text().rstrip(",")


def segment_rank(rank: int, port: int, folder: str, die_at_step: int | None) -> None:
    from app.__main__ import main
    from app.cli.pipeline import Segmenter

    as_rank(rank, port)
    if die_at_step is not None and rank == 1:
        real_step = Segmenter.step

        def step(self, image, video=0):
            if self.steps == die_at_step:
                os._exit(9)  # as if killed: no clean-up, no message
            return real_step(self, image, video)

        Segmenter.step = step
    folder = Path(folder)
    leaving = folder / f"leaving{rank}"  # how the rank leaves the process group, in order
    leaving.write_text("")
    for name in ("barrier", "destroy_process_group"):
        setattr(dist, name, noting(leaving, name))
    main(["segment", "--manifest", str(folder / "list.txt"), "--out-dir",
          str(folder / "out"), "--distributed", "--average-every", "2",
          "--save-checkpoint", str(folder / "model.pt"), "--dist-timeout", "60", *TINY])
    sys.exit(99)  # not reached: a rank ends its process with the run's exit code


def write_manifest(folder: Path, seconds: list[int]) -> None:
    (folder / "list.txt").write_text("".join(f"synthetic:{i}:{s}\n"
                                             for i, s in enumerate(seconds)))


def test_two_ranks_share_a_manifest_and_rank_0_saves_the_average(tmp_path, capfd):
    write_manifest(tmp_path, [2, 1, 1, 2])
    codes = run_ranks(segment_rank, str(tmp_path), None)
    assert codes == [0, 0], capfd.readouterr().err[-3000:]  # -6: an abort at exit
    # together, then each leaves its group (and ends its process: end_rank)
    assert [calls_noted(tmp_path / f"leaving{r}") for r in range(2)] == [
        "barrier,destroy_process_group"] * 2
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["done"] == 4 and not summary["failed"]
    assert [r["steps"] for r in summary["ranks"]] == [6, 6]  # balanced by duration
    assert summary["averagings"] == 5  # at the start, every 2 steps, at the end
    assert sorted(p.name for p in (tmp_path / "out").glob("synthetic_*.json")) == [
        f"synthetic_{i}_{s}.json" for i, s in enumerate([2, 1, 1, 2])]
    model, optimizer = load_checkpoint(tmp_path / "model.pt", device="cpu")
    assert optimizer.args.world_size == 1  # the saved model resumes on its own
    assert optimizer.args.average_every == 2


def test_a_rank_that_dies_ends_the_job_and_the_checkpoint_stays_whole(tmp_path, capfd):
    write_manifest(tmp_path, [2, 2])
    codes = run_ranks(segment_rank, str(tmp_path), 3)
    assert codes[1] == 9
    assert codes[0] == 3  # EXIT_INCOMPLETE, said, not a crash
    assert calls_noted(tmp_path / "leaving0") == "destroy_process_group"  # waits for none
    err = capfd.readouterr().err
    assert "rank 0 of 2: another rank died or stopped answering" in err
    assert "is whole" in err and "--skip-done" in err
    model, _ = load_checkpoint(tmp_path / "model.pt", device="cpu")
    assert model.base_counter == 2  # saved at the last averaging, after 2 steps
    assert not (tmp_path / "out" / "summary.json").exists()
