"""The two ends of the golden model's sample loop: what it feeds the network (a class, or the
previous sample's value for a scalar input) and how it draws the next sample from the head's
output (wncc/arith/heads.py), with the seeded stream, the temperature and the 16-bit PCM.

A sample's *history value* is what identifies it: the class for a categorical head, the float32
value for a mixture or Gaussian head. ``feed`` maps history values to network inputs.
"""

from __future__ import annotations

import numpy as np

from wncc.arith import heads
from wncc.arith.sampling import (Pcg32, cdf_tables, draw, gumbel_for_temperature, gumbel_scaled,
                                 sample_cdf_int, sample_int)
from wncc.ir import Graph

F = np.float32


def silence(graph: Graph):
    """The history value before the first sample: the class of 0.0, or 0.0."""
    return graph.classes // 2 if graph.head.kind == "categorical" else F(0.0)


class Sampler:
    def __init__(self, graph: Graph, integer: bool) -> None:
        self.head = graph.head
        self.scalar = graph.input_kind == "scalar"
        self.input_dtype = F if self.scalar else np.int64  # what the network's sample input takes
        self.out_q = graph.tensors[graph.output].quant
        categorical = self.head.kind == "categorical"
        tables = (heads.value_table(graph.classes, self.head.companding),
                  heads.pcm_table(graph.classes, self.head.companding))
        self.values, self.pcm_table = tables if categorical else (None, None)
        self.integer_classes = integer and categorical
        gumbel = self.integer_classes and self.head.sampler == "gumbel"
        self.g_scaled = gumbel_scaled(self.out_q.scale) if gumbel else None
        self.reset(0, 1.0)

    def reset(self, seed: int, temperature: float) -> None:
        self.rng = Pcg32(seed)
        self.d = F(0.0)  # the de-emphasis filter's last output
        self.temperature = F(temperature)
        self.gq = self.cdf = None  # None: greedy (temperature 0)
        if self.integer_classes and self.temperature != 0:
            if self.head.sampler == "cdf":
                self.cdf = cdf_tables(self.out_q.scale, self.temperature)
            else:
                self.gq = gumbel_for_temperature(self.g_scaled, self.temperature)

    def draw(self, out: np.ndarray):
        """The next sample's history value from the head's output (float or integer)."""
        if self.head.kind == "categorical":
            if not self.integer_classes:
                return draw(out, self.temperature, self.rng, self.head.sampler)
            if self.head.sampler == "cdf":
                return sample_cdf_int(out, *(self.cdf or (None, None)), self.rng)
            return sample_int(out, self.out_q.zero_point, self.gq, self.rng)
        y = out if self.out_q is None else heads.dequantize(out, self.out_q.scale,
                                                            self.out_q.zero_point)
        if self.head.kind == "mol":
            return heads.sample_mol(y, self.head.log_scale_min, self.temperature, self.rng,
                                    self.head.sampler)
        return heads.sample_gaussian(y, self.head.log_scale_min, self.temperature, self.rng)

    def feed(self, history):
        """Network inputs for history values: classes as they are, or values for a scalar input
        (a class's value from the companding table)."""
        history = np.asarray(history)
        if self.scalar and self.values is not None:
            return self.values[history.astype(np.int64)]
        return history.astype(self.input_dtype)

    def pcm(self, history: np.ndarray) -> np.ndarray:
        """16-bit PCM of the next generated samples (the de-emphasis filter goes on from where
        it stopped)."""
        history = np.asarray(history)
        if self.head.deemphasis == 0 and self.pcm_table is not None:
            return self.pcm_table[history.astype(np.int64)]
        x = self.values[history.astype(np.int64)] if self.values is not None else history
        if self.head.deemphasis != 0 and len(x):
            x = heads.deemphasis(x, self.head.deemphasis, self.d)
            self.d = x[-1]
        return heads.pcm16(x)

    def history_dtype(self) -> type:
        return np.int64 if self.head.kind == "categorical" else F
