"""The four networks of a STREAMER layer, with the reference's module names.

Parameter names and construction order match the reference implementation
(`streamer-torch` 0.0.3) so that its checkpoints load and, with the same seed,
the same initial weights are drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from .deferred_linear import DeferredWeightGrad

ENCODED_CHANNELS = 1024
ENCODED_SIDE = 8  # 128x128 input after four 2x2 poolings
DESCRIPTOR_DEPTH = 2
"""Convolution blocks behind descriptor_of: colours and small textures, 64 channels"""
PREVAILING_GRID = 3
"""Regions a side behind CNNEncoder.prevailing; odd, so that the median over them is one
region's value, not the mean of two"""


class CNNEncoder(nn.Module):
    """Image [S, 3, 128, 128] -> features [S, D]."""

    def __init__(self, feature_dim: int):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(64, 256, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(256, ENCODED_CHANNELS, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(ENCODED_CHANNELS * ENCODED_SIDE * ENCODED_SIDE, feature_dim)
        self.fc1_deferred: DeferredWeightGrad | None = None

    def defer_weight_gradients(self) -> list[DeferredWeightGrad]:
        """Fast path: fc1's weight gradient is summed in batches (see deferred_linear)."""
        self.fc1_deferred = DeferredWeightGrad(self.fc1)
        return [self.fc1_deferred]

    @torch.no_grad()
    def blocks(self, images: torch.Tensor, depth: int = DESCRIPTOR_DEPTH) -> torch.Tensor:
        """The first `depth` convolution blocks' output [N, channels, H, W]."""
        return self.first_blocks(images, depth)

    def first_blocks(self, images: torch.Tensor, depth: int = DESCRIPTOR_DEPTH) -> torch.Tensor:
        """`blocks` with gradients (sparse_change learns through them)."""
        return through_blocks(self.first_convolutions(depth), images)

    def first_convolutions(self, depth: int = DESCRIPTOR_DEPTH) -> tuple[nn.Conv2d, ...]:
        """The convolutions of the first `depth` blocks."""
        return (self.conv1, self.conv2, self.conv3, self.conv4)[:depth]

    @torch.no_grad()
    def prevailing(self, images: torch.Tensor, grid: int = PREVAILING_GRID) -> torch.Tensor:
        """What most of each picture shows: every channel of the first convolution block,
        its median over each of grid x grid regions, then the median over the regions
        [N, 32]. Whatever fills less than half of the regions (an object passing, a
        window, the floor) hardly moves it; the room does. A median over the pixels
        instead lands where the wall's shading meets the rest of the picture's values,
        which moves with everything else in view (docs/quality.md, "Retrieval")."""
        return prevailing_of(self.conv1, images, grid)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        x = through_blocks(self.first_convolutions(depth=4), x)
        x = x.reshape(-1, ENCODED_CHANNELS * ENCODED_SIDE * ENCODED_SIDE)  # [S, 65536]
        fc1 = self.fc1 if self.fc1_deferred is None else self.fc1_deferred
        return fc1(x), None  # None: no attention, kept for API compatibility


def through_blocks(convolutions: Sequence[nn.Conv2d], images: torch.Tensor) -> torch.Tensor:
    """Images through convolution blocks as CNNEncoder builds them (convolution, ReLU, 2 x 2
    max pooling): its forward, its first blocks, and sparse_change's copy of them."""
    x = images
    for conv in convolutions:
        x = F.max_pool2d(F.relu(conv(x)), 2, 2)
    return x


def descriptor_of(block: torch.Tensor) -> torch.Tensor:
    """What a block's output [N, C, H, W] shows, wherever it is (what layer 0 reads in
    `features`): its channels pooled over the whole picture (their
    maximum and their mean), each half divided by its mean so that only the mix of
    features counts [N, 2 * channels]. A shift or a shake of the camera hardly moves it;
    new things in view do."""
    pooled = (block.amax(dim=(2, 3)), block.mean(dim=(2, 3)))
    return torch.cat([p / (p.mean(dim=1, keepdim=True) + 1e-8) for p in pooled], dim=1)


def descriptor_steps(descriptors: torch.Tensor) -> torch.Tensor:
    """Descriptors of consecutive pictures [N, C] -> how far each moved from the one before
    [N - 1] (mean absolute change): what sparse_change learns from and frames_between reads."""
    return (descriptors[1:] - descriptors[:-1]).abs().mean(dim=1)


def grid_regions(block: torch.Tensor, grid: int) -> list[torch.Tensor]:
    """A convolution block's output [N, C, H, W] cut into grid x grid regions, row by row,
    each flattened to [N, C, pixels] (the last row and column take what does not divide)."""
    height, width = block.shape[2:]
    return [block[:, :, i * height // grid:(i + 1) * height // grid,
                  j * width // grid:(j + 1) * width // grid].flatten(2)
            for i in range(grid) for j in range(grid)]


def prevailing_of(conv1: nn.Conv2d, images: torch.Tensor, grid: int = PREVAILING_GRID
                  ) -> torch.Tensor:
    """CNNEncoder.prevailing [N, C] of `images` by a first convolution `conv1` (the
    encoder's own, or a frozen copy of it: event_features.FrozenFirstBlock)."""
    return prevailing_in(first_block_of(conv1, images), grid)


def first_block_of(conv1: nn.Conv2d, images: torch.Tensor) -> torch.Tensor:
    """The encoder's first block [N, C, H/2, W/2] by a first convolution `conv1`."""
    return F.max_pool2d(F.relu(conv1(images)), 2, 2)


def prevailing_in(block: torch.Tensor, grid: int = PREVAILING_GRID) -> torch.Tensor:
    """CNNEncoder.prevailing [N, C] of a first block's output [N, C, H, W]."""
    medians = [region.median(dim=2).values for region in grid_regions(block, grid)]
    return torch.stack(medians, dim=2).median(dim=2).values


class CNNDecoder(nn.Module):
    """Features [N, D] -> image [N, 3, 128, 128]."""

    def __init__(self, feature_dim: int):
        super().__init__()
        self.fc1 = nn.Linear(feature_dim, ENCODED_CHANNELS * ENCODED_SIDE * ENCODED_SIDE)
        self.conv1 = nn.Conv2d(ENCODED_CHANNELS, 256, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(256, 64, kernel_size=3, padding=1)
        self.conv3 = nn.Conv2d(64, 32, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(32, 3, kernel_size=3, padding=1)
        self.fc1_deferred: DeferredWeightGrad | None = None

    def defer_weight_gradients(self) -> list[DeferredWeightGrad]:
        """Fast path: fc1's weight gradient is summed in batches (see deferred_linear)."""
        self.fc1_deferred = DeferredWeightGrad(self.fc1)
        return [self.fc1_deferred]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fc1 = self.fc1 if self.fc1_deferred is None else self.fc1_deferred
        x = fc1(x).view(-1, ENCODED_CHANNELS, ENCODED_SIDE, ENCODED_SIDE)
        for conv in (self.conv1, self.conv2, self.conv3):
            x = F.relu(conv(F.interpolate(x, scale_factor=2)))
        return self.conv4(F.interpolate(x, scale_factor=2))


def _transformer(feature_dim: int, n_heads: int, num_layers: int) -> nn.TransformerEncoder:
    """Post-norm, ReLU, no dropout, sequence-first, final non-affine LayerNorm."""
    layer = nn.TransformerEncoderLayer(
        d_model=feature_dim,
        nhead=n_heads,
        dim_feedforward=feature_dim * 2,
        activation=nn.ReLU(),
        dropout=0.0,
    )
    norm = nn.LayerNorm(feature_dim, elementwise_affine=False)
    # The fast path of nn.TransformerEncoder is for inference only; parity wants the
    # plain math path in training and in no_grad alike.
    return nn.TransformerEncoder(layer, num_layers=num_layers, norm=norm,
                                 enable_nested_tensor=False)


class _SelfOptimizing(nn.Module):
    """A module that owns an Adam optimizer over its own parameters, as in the reference."""

    optim: torch.optim.Optimizer

    def _make_optimizer(self, lr: float) -> None:
        self.optim = torch.optim.Adam(self.parameters(), lr=lr)

    def get_params(self) -> list[nn.Parameter]:
        return list(self.parameters())

    def step_params(self) -> None:
        self.optim.step()

    def zero_params(self) -> None:
        self.optim.zero_grad()


class TemporalEncoding(_SelfOptimizing):
    """A sequence of inputs [S, D] or images [S, 3, H, W] -> one summary vector [1, D]."""

    def __init__(self, feature_dim: int, buffer_size: int, lr: float, n_heads: int = 4,
                 num_layers: int = 2, encoder: type[nn.Module] | None = None,
                 patch: bool = False):
        super().__init__()
        if encoder is not None:
            self.encoder = encoder(feature_dim)
        self.cls_token = nn.Embedding(1, feature_dim, max_norm=1.0)
        self.pos_enc = nn.Embedding(buffer_size, feature_dim, max_norm=1.0)
        self.network = _transformer(feature_dim, n_heads, num_layers)
        self._make_optimizer(lr)

    @property
    def has_encoder(self) -> bool:
        return hasattr(self, "encoder")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Inputs -> per-item features [S, D] (identity without an encoder)."""
        return self.encoder(x)[0] if self.has_encoder else x

    def summarize(self, features: torch.Tensor) -> torch.Tensor:
        """Features [S, D] -> representation [1, D] at the class token."""
        device = features.device
        positions = torch.arange(features.shape[0], device=device)
        x_pos = features.unsqueeze(1) + self.pos_enc(positions).unsqueeze(1)  # [S, 1, D]
        cls = self.cls_token(torch.zeros(1, dtype=torch.long, device=device)).unsqueeze(0)
        x_cls = torch.cat([cls, x_pos], dim=0)  # [S+1, 1, D]
        return self.network(x_cls)[0]  # [1, D]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, None]:
        return self.summarize(self.encode(x)), None


class HierarchicalPrediction(_SelfOptimizing):
    """Representations of all layers [L, D] -> this layer's prediction [1, D] or image."""

    def __init__(self, feature_dim: int, max_layers: int, lr: float, layer_num: int,
                 n_heads: int = 4, num_layers: int = 2,
                 decoder: type[nn.Module] | None = None, patch: bool = False):
        super().__init__()
        self.layer_num = layer_num
        self.pos_enc = nn.Embedding(max_layers, feature_dim, max_norm=1.0)
        # The reference always uses 4 heads here, whatever n_heads says.
        self.network = _transformer(feature_dim, 4, num_layers)
        if decoder is not None:
            self.decoder = decoder(feature_dim)
        self._make_optimizer(lr)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(x.shape[0], device=x.device)
        reps = x.unsqueeze(1) + self.pos_enc(positions).unsqueeze(1)  # [L, 1, D]
        context = self.network(reps)[self.layer_num]  # [1, D]
        if hasattr(self, "decoder"):
            context = self.decoder(context)  # [1, 3, 128, 128]
        return context
