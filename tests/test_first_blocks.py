"""first_blocks "learned": a new `live` model's first blocks start as they learned sparse
change over the synthetic scene; everything else is drawn as before."""

import pytest
import torch

from streamer_core import StreamerModel, first_blocks
from streamer_core.checkpoint import load_checkpoint, save_checkpoint
from streamer_core.first_blocks import LEARNED_BLOCKS, block_tensors, load_blocks, save_blocks
from streamer_core.networks import CNNEncoder, descriptor_of
from streamer_core.optimizer import StreamerOptimizer
from streamer_core.presets import preset_arguments
from streamer_core.sources import open_source, preprocess_frame
from streamer_core.sparse_change import sparseness_ratio


def preset_model(name: str, seed: int, **changes) -> StreamerModel:
    model_args, _ = preset_arguments(name)
    model_args.seed, model_args.device = seed, "cpu"
    for key, value in changes.items():
        setattr(model_args, key, value)
    return StreamerModel(model_args)


def first_convolutions(model: StreamerModel) -> tuple[torch.nn.Conv2d, ...]:
    return model.streamer.f.encoder.first_convolutions()


def same_blocks(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def shipped() -> dict[str, torch.Tensor]:
    return torch.load(LEARNED_BLOCKS, map_location="cpu", weights_only=True)


def test_live_starts_from_the_shipped_blocks_and_draws_the_rest_by_seed():
    one, two = preset_model("live", seed=1), preset_model("live", seed=2)
    assert same_blocks(block_tensors(first_convolutions(one)), shipped())
    assert same_blocks(block_tensors(first_convolutions(two)), shipped())
    encoder_one, encoder_two = one.streamer.f.encoder, two.streamer.f.encoder
    assert not torch.equal(encoder_one.conv3.weight, encoder_two.conv3.weight)
    # The rest is drawn as it would be without the shipped blocks.
    drawn = preset_model("live", seed=1, first_blocks="drawn")
    assert torch.equal(drawn.streamer.f.encoder.conv3.weight, encoder_one.conv3.weight)
    assert not same_blocks(block_tensors(first_convolutions(drawn)), shipped())
    # The Event memory reads with the shipped block, frozen: what it starts from.
    assert torch.equal(one.frozen_first_block.conv.weight, encoder_one.conv1.weight)
    assert torch.equal(drawn.frozen_first_block.conv.weight,
                       drawn.streamer.f.encoder.conv1.weight)


def test_paper_keeps_drawn_blocks():
    model = preset_model("paper", seed=0)
    assert model.args.first_blocks == "drawn"
    assert not same_blocks(block_tensors(first_convolutions(model)), shipped())


def test_the_shipped_blocks_see_a_stream_they_did_not_learn_from_change_sparsely():
    """What the file is for: the steps of what is in view rare and large (lower), from the
    first input on, where drawn blocks' are restless (synthetic:11, not the scene the
    blocks learned from)."""
    with open_source("synthetic:11:20") as frames:
        step = round(frames.fps * 0.5)
        inputs = torch.cat([preprocess_frame(frame.image)
                            for i, frame in enumerate(frames) if i % step == 0])
    for seed in range(3):
        torch.manual_seed(seed)
        encoder = CNNEncoder(8)
        with torch.no_grad():
            drawn = sparseness_ratio(descriptor_of(encoder.first_blocks(inputs))).item()
            load_blocks(encoder.first_convolutions())
            learned = sparseness_ratio(descriptor_of(encoder.first_blocks(inputs))).item()
        assert learned < drawn - 0.5


def test_a_checkpoint_keeps_the_blocks_it_learned_not_the_shipped_ones(tmp_path):
    model = preset_model("live", seed=0)
    with torch.no_grad():
        model.streamer.f.encoder.conv1.weight.add_(0.01)
    learned = block_tensors(first_convolutions(model))
    model_args, optimizer_args = preset_arguments("live")
    save_checkpoint(tmp_path / "model.pt", model, StreamerOptimizer(model, optimizer_args))
    loaded, _ = load_checkpoint(tmp_path / "model.pt", device="cpu")
    assert loaded.args.first_blocks == "learned"
    assert same_blocks(block_tensors(first_convolutions(loaded)), learned)


def test_without_the_shipped_file_a_new_model_is_refused_and_a_checkpoint_still_loads(
        tmp_path, monkeypatch):
    model = preset_model("live", seed=0)
    model_args, optimizer_args = preset_arguments("live")
    save_checkpoint(tmp_path / "model.pt", model, StreamerOptimizer(model, optimizer_args))
    monkeypatch.setattr(first_blocks, "LEARNED_BLOCKS", tmp_path / "gone.pt")
    with pytest.raises(ValueError, match="missing"):
        preset_model("live", seed=0)
    loaded, _ = load_checkpoint(tmp_path / "model.pt", device="cpu")
    assert loaded.args.first_blocks == "learned"
    assert same_blocks(block_tensors(first_convolutions(loaded)), shipped())


@pytest.mark.parametrize("damage, message", [
    ("missing", "missing"),
    ("not blocks", "does not hold"),
    ("shape", "another shape"),
    ("nan", "NaN"),
    ("garbage", "cannot be read"),
])
def test_bad_blocks_files_are_refused_with_a_clear_message(tmp_path, damage, message):
    encoder = CNNEncoder(8)
    path = tmp_path / "blocks.pt"
    if damage == "not blocks":
        torch.save({"weights": torch.zeros(3)}, path)
    elif damage == "shape":
        save_blocks((torch.nn.Conv2d(3, 16, 3), torch.nn.Conv2d(16, 64, 3)), path)
    elif damage == "nan":
        blocks = block_tensors(encoder.first_convolutions())
        blocks["conv2.bias"][0] = float("nan")
        torch.save(blocks, path)
    elif damage == "garbage":
        path.write_bytes(b"not a torch file")
    before = block_tensors(encoder.first_convolutions())
    with pytest.raises(ValueError, match=message):
        load_blocks(encoder.first_convolutions(), path)
    assert same_blocks(block_tensors(encoder.first_convolutions()), before)


def test_blocks_round_trip_through_a_file(tmp_path):
    torch.manual_seed(5)
    source, target = CNNEncoder(8), CNNEncoder(8)
    save_blocks(source.first_convolutions(), tmp_path / "blocks.pt")
    load_blocks(target.first_convolutions(), tmp_path / "blocks.pt")
    assert same_blocks(block_tensors(target.first_convolutions()),
                       block_tensors(source.first_convolutions()))
    assert not torch.equal(target.conv3.weight, source.conv3.weight)


def test_learned_blocks_need_an_image_encoder():
    model_args, _ = preset_arguments("live")
    model_args.device, model_args.event_representation = "cpu", "summary"
    with pytest.raises(ValueError, match="image encoder"):
        StreamerModel(model_args, encoder=None)
