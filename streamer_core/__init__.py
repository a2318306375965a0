"""STREAMER: streaming, self-supervised, hierarchical event segmentation (NeurIPS 2023)."""

from .buffer import MemBuffer
from .demarcation import EventDemarcation
from .layer import LayerStep, StreamerLayer, StreamerLayerArguments
from .loss import StreamerLoss
from .model import StreamerModel, StreamerModelArguments
from .networks import CNNDecoder, CNNEncoder, HierarchicalPrediction, TemporalEncoding
from .optimizer import StreamerOptimizer, StreamerOptimizerArguments

__all__ = [
    "CNNDecoder", "CNNEncoder", "EventDemarcation", "HierarchicalPrediction", "LayerStep",
    "MemBuffer", "StreamerLayer", "StreamerLayerArguments", "StreamerLoss", "StreamerModel",
    "StreamerModelArguments", "StreamerOptimizer", "StreamerOptimizerArguments",
    "TemporalEncoding",
]
