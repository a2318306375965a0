"""`segment --manifest LIST --distributed` under torchrun: continual learning on many ranks.

Each rank streams its own shard of the manifest and, every `average_every` inputs, the
ranks average their weights with the reference's rule (`StreamerOptimizer.average_models`
of streamer-torch: every parameter summed over the ranks with all_reduce and divided by
the world size, only when all ranks have the same number of layers). Two choices where
the reference is silent, because its ranks all stream the same number of inputs and ours
do not:

- the layer counts are gathered (all ranks then decide alike; the reference compared
  each rank's count with the sum, which some ranks can pass and others not);
- a rank whose shard is finished answers the others' rounds without averaging until all
  are finished (averaging with a model that no longer learns would halve what the others
  learn); the ranks then average once more, and rank 0 saves that model.

Rank 0 saves the checkpoint (atomically) after every averaging and at the end, and
writes the combined summary, DIR/summary.json. A rank that dies (or stops answering for
the process group's timeout) makes the others' next collective fail: they stop with a
message that names the last checkpoint, which stays whole.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

import torch
import torch.distributed as dist

from streamer_core import StreamerModel, StreamerOptimizer
from streamer_core.atomic_file import write_json
from streamer_core.device import resolve_device

from ..process_end import end_process
from .batch import (
    Batch,
    ModelFactory,
    ShardSummary,
    interrupted_message,
    prepare_out_dir,
    say,
)
from .errors import EXIT_INCOMPLETE, EXIT_OK, CliError
from .interrupts import Interrupts
from .manifest import ManifestEntry, shard_of
from .model_setup import save_model

TORCHRUN_VARIABLES = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


class RankLost(Exception):
    """A collective failed: another rank died or stopped answering."""


def start_process_group(device: str, timeout_s: float) -> torch.device:
    """Joins torchrun's process group: NCCL on CUDA (one GPU per local rank), gloo on the
    CPU. Returns the device this rank's model runs on."""
    missing = [name for name in TORCHRUN_VARIABLES if name not in os.environ]
    if missing:
        raise CliError(f"--distributed runs under torchrun ({', '.join(missing)} not set), "
                       "e.g. torchrun --nproc-per-node 2 -m app segment --manifest LIST "
                       "--distributed --out-dir DIR")
    try:
        chosen = resolve_device(device)
    except ValueError as err:
        raise CliError(str(err)) from None
    if chosen.type == "cuda":
        chosen = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))
                              % torch.cuda.device_count())
        torch.cuda.set_device(chosen)
    backend = "nccl" if chosen.type == "cuda" else "gloo"
    try:
        dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s))
    except (RuntimeError, ValueError) as err:
        raise CliError(f"cannot join the torchrun process group ({first_line(err)})") from None
    return chosen


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:300] if text else type(error).__name__


def average_models(model: torch.nn.Module, world_size: int) -> None:
    """The reference's rule: each parameter summed over the ranks, divided by world_size."""
    for _, param in model.named_parameters():
        dist.all_reduce(param.data, op=dist.ReduceOp.SUM)
        param.data /= world_size


class WeightAveraging:
    """Rounds every `average_every` learning steps of this rank; see the module's doc."""

    def __init__(self, model: Callable[[], StreamerModel], average_every: int,
                 on_averaged: Callable[[], None] = lambda: None):
        self.model = model
        self.average_every = average_every
        self.on_averaged = on_averaged
        self.world_size = dist.get_world_size()
        self.steps_since = 0
        self.rounds = 0
        self.averagings = 0
        self.skipped_unequal = 0
        self.averaged_last = False  # whether the latest round averaged

    def after_step(self) -> None:
        self.steps_since += 1
        if self.steps_since >= self.average_every:
            self.steps_since = 0
            self.round(finished=False)

    def finish(self) -> None:
        """This rank's shard is done: answer the others' rounds until all are done."""
        while not self.round(finished=True):
            pass

    def round(self, finished: bool) -> bool:
        """One round; every rank takes the same decision. True when all ranks are done."""
        model = self.model()
        device = next(model.parameters()).device
        mine = torch.tensor([model.get_num_layers(), int(finished)], device=device)
        every = [torch.zeros_like(mine) for _ in range(self.world_size)]
        self.averaged_last = False
        try:
            dist.all_gather(every, mine)
            layers = {int(t[0]) for t in every}
            done = [bool(t[1]) for t in every]
            self.rounds += 1
            if any(done) and not all(done):
                return False
            if len(layers) > 1:
                self.skipped_unequal += 1
                return all(done)
            average_models(model, self.world_size)
        except RuntimeError as err:
            raise RankLost(first_line(err)) from err
        self.averagings += 1
        self.averaged_last = True
        self.on_averaged()
        return all(done)


def run_rank(args: argparse.Namespace, entries: list[ManifestEntry],
             make_model: ModelFactory) -> NoReturn:
    """This rank's shard under torchrun. Once the process group has started, the rank
    leaves it and ends the process with the exit code (see `end_rank`); an unexpected
    error still propagates with its traceback."""
    if args.no_learn or args.reset_per_video:
        raise CliError("--distributed averages what the ranks learn: it does not go with "
                       "--no-learn or --reset-per-video (run independent shards with "
                       "--shard I/N instead)")
    device = start_process_group(args.device, args.dist_timeout)
    rank, world_size = dist.get_rank(), dist.get_world_size()
    try:
        code = _run(args, entries, make_model, device, rank, world_size)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    end_rank(code)


def end_rank(code: int) -> NoReturn:
    """Ends a rank whose results are written, without the interpreter's teardown.

    gloo's worker threads outlive `destroy_process_group` (the group stays referenced
    from C++ once a model is built; its threads are joined only when it is freed). A
    worker releases each collective's work after the caller has the result, and the last
    barrier's work holds the all_gather before it, whose tensors' Python objects need the
    GIL to be freed: if the interpreter is tearing down by then, the worker is ended
    inside C++ and the rank aborts with -6 ("terminate called without an active
    exception"; the core dump of a CI failure: AsyncBarrierWork -> AsyncAllgatherWork ->
    decref_pyobject -> take_gil -> pthread_exit)."""
    end_process(code)


def _run(args: argparse.Namespace, entries: list[ManifestEntry], make_model: ModelFactory,
         device: torch.device, rank: int, world_size: int) -> int:
    out_dir = prepare_out_dir(args.out_dir)
    checkpoint = Path(args.save_checkpoint) if args.save_checkpoint else None

    def distributed_model() -> tuple[StreamerModel, StreamerOptimizer]:
        model, optimizer = make_model()
        optimizer.args = dataclasses.replace(
            optimizer.args, world_size=world_size,
            average_every=args.average_every or optimizer.args.average_every)
        optimizer.args.validate()
        return model, optimizer

    summary = ShardSummary(shard=f"{rank}/{world_size}")
    with Interrupts() as interrupts:
        batch = Batch(args, out_dir, interrupts, distributed_model)
        if batch.model.device.type != device.type:
            raise CliError(f"the model runs on {batch.model.device}, the process group on "
                           f"{device}: give --device {device.type}")

        def save() -> None:
            if rank == 0 and checkpoint is not None:
                with interrupts.held():
                    save_model(checkpoint, batch.model, batch.optimizer)

        averaging = WeightAveraging(lambda: batch.model, batch.optimizer.args.average_every,
                                    on_averaged=save)
        batch.after_step = averaging.after_step
        try:
            averaging.round(finished=False)  # the same start everywhere (and a handshake)
            batch.run(shard_of(entries, rank, world_size), summary)
            averaging.finish()
            if not averaging.averaged_last:  # the ranks' last layer counts differed
                save()
            summaries = gather_summaries(summary, world_size)
        except RankLost as lost:
            where = ("no checkpoint was asked for (--save-checkpoint)" if checkpoint is None
                     else f"the last checkpoint, {checkpoint}, is whole" if checkpoint.exists()
                     else "no checkpoint was written yet")
            say(f"error: rank {rank} of {world_size}: another rank died or stopped answering "
                f"({lost}); the job ends; {where}; the videos finished are written (rerun "
                f"with --skip-done{f' --checkpoint {checkpoint}' if checkpoint else ''} to "
                "go on)")
            return EXIT_INCOMPLETE
        except KeyboardInterrupt as interrupt:
            return interrupted_message(batch, interrupt)
    say(summary.line() + f"; {averaging.averagings} averagings, {averaging.skipped_unequal} "
        "skipped (unequal layer counts)")
    if rank == 0:
        write_json(out_dir / "summary.json", combined_summary(summaries, averaging))
    leave_together(rank, world_size)
    return EXIT_INCOMPLETE if any(s["failed"] for s in summaries) else EXIT_OK


def leave_together(rank: int, world_size: int) -> None:
    """A barrier before the process group is destroyed, as torch's own distributed tests
    do: no rank closes its connections while another still uses them. Only after a run
    that every rank finished: after a lost rank it would wait for nobody."""
    try:
        dist.barrier()
    except RuntimeError as err:  # the results are all written: say so, and leave
        say(f"warning: rank {rank} of {world_size}: the ranks did not leave together "
            f"({first_line(err)}); the results are written")


def gather_summaries(summary: ShardSummary, world_size: int) -> list[dict]:
    summaries: list = [None] * world_size
    try:
        dist.all_gather_object(summaries, summary.as_dict())
    except RuntimeError as err:
        raise RankLost(first_line(err)) from err
    return summaries


def combined_summary(summaries: list[dict], averaging: WeightAveraging) -> dict:
    steps = sum(s["steps"] for s in summaries)
    wall = max(s["wall_seconds"] for s in summaries)
    return {"world_size": len(summaries), "average_every": averaging.average_every,
            "averagings": averaging.averagings,
            "skipped_unequal_layers": averaging.skipped_unequal,
            "videos": sum(s["videos"] for s in summaries),
            "done": sum(s["done"] for s in summaries),
            "skipped": sum(s["skipped"] for s in summaries),
            "failed": [f for s in summaries for f in s["failed"]],
            "steps": steps, "wall_seconds": wall,
            "steps_per_second": round(steps / wall, 3) if wall > 0 else 0.0,
            "ranks": summaries}
