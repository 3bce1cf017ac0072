"""The golden model: numpy execution of the streaming IR, sample by sample, with the sampling loop.

``push_frame`` / ``step_logits`` / ``generate`` mirror the C API one to one. ``teacher_forced`` runs
the same ops on whole sequences (n = T columns at once, the history of each ring buffer taken from
the shifted input); it computes the same float32 operations in the same order per element, so it
returns exactly the logits that stepping would, only faster.
"""

from __future__ import annotations

import numpy as np

from wncc import ops
from wncc.arith import halfs
from wncc.golden.sampler import Sampler, silence
from wncc.ir import Graph, Node, Rate, is_integer
from wncc.ops.base import Eval
from wncc.passes import lowered

F = np.float32


class GoldenModel:
    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        low = lowered.of(graph)
        self.programs, self.time = low.programs, low.time
        # the conditioning tensors the sample program reads: a frame row, or a hop-row table
        self.read = {t: graph.tensors[t].rate for n in self.programs.sample for t in n.inputs
                     if t in self.time.rows}
        self.integer = is_integer(graph)
        self.sampler = Sampler(graph, self.integer)
        self.reset()

    def _ev(self, node: Node) -> Eval:
        return Eval(self.integer, self.graph.tensors[node.outputs[0]].dtype, self.graph.rounding)

    def eval(self, node: Node, ins: list[np.ndarray]) -> np.ndarray:
        """A node without history, on (C, n) arrays, by its op module (wncc/ops/)."""
        out = ops.of(node).golden(node, ins, self._ev(node))
        return out if self.integer else self.act(out)

    def act(self, x: np.ndarray) -> np.ndarray:
        """Float activations are rounded to the model's 16-bit format after every op."""
        if self.graph.dtype in halfs.FORMATS:
            return halfs.round_to(x, self.graph.dtype)
        return x

    def pad_value(self, node: Node):
        """What a ring buffer holds before the first sample: real zero."""
        return self.real_zero(node.inputs[0])

    def conv(self, node: Node, taps: list[np.ndarray]) -> np.ndarray:
        """A streaming convolution from its taps, oldest first."""
        out = ops.of(node).taps(node, taps, self._ev(node))
        return out if self.integer else self.act(out)

    def reset(self, seed: int = 0, temperature: float = 1.0) -> None:
        g = self.graph
        dt = np.int64 if self.integer else F
        self.rings = {n.name: np.full((n.attrs["ring_len"], g.tensors[n.inputs[0]].channels),
                                      self.pad_value(n), dt) for n in g.ops("conv_ring")}
        self.ring_pos = {name: 0 for name in self.rings}
        self.sampler.reset(seed, temperature)
        self.prev = silence(g)
        self.frame_env: dict[str, np.ndarray] = {}
        self.mels: list[np.ndarray] = []
        self.made = 0  # output frames made
        self.ended = False
        self.phase = g.hop  # no frame yet

    # -- frame program ---------------------------------------------------------------------
    def conditioning(self, mel: np.ndarray) -> dict[str, np.ndarray]:
        """The frame program over whole sequences: every conditioning tensor (C, length) from
        mel frames [F, n_mels]; rows beyond the given frames are the padding of an ended
        utterance (each op's zero padding), exactly as the C's windows compute them."""
        g = self.graph
        env = {g.mel_input: self.act(np.asarray(mel, F).reshape(-1, g.n_mels).T.copy())}
        for node in self.programs.frame:
            ins = [env[t] for t in node.inputs]
            pads = [self.real_zero(t) for t in node.inputs]
            out = ops.of(node).sequence(node, ins, self._ev(node), pads)
            env[node.outputs[0]] = out if self.integer else self.act(out)
        return env

    def real_zero(self, tensor: str):
        t = self.graph.tensors[tensor]
        return t.quant.zero_point if t.quant is not None else 0.0

    def _use_frame(self, env: dict[str, np.ndarray], g: int) -> None:
        """Make output frame g's conditioning the one the next hop samples read."""
        hop = self.graph.hop
        self.frame_env = {name: env[name][:, g * hop:(g + 1) * hop] if rate == Rate.TABLE
                          else env[name][:, g:g + 1] for name, rate in self.read.items()}
        self.made = g + 1
        self.phase = 0

    def push_frame(self, mel: np.ndarray) -> None:
        """Append a mel frame; once the lookahead is covered, the next output frame is made:
        from this frame alone when no conditioning op reads other rows, else from every frame
        so far (the rows it reads do not depend on the frames to come)."""
        if self.ended:
            raise RuntimeError("the utterance has ended (flush)")
        self.mels.append(np.asarray(mel, F).reshape(-1))
        if not self.time.windowed:
            self._use_frame(self.conditioning(self.mels[-1]), 0)
            self.made = len(self.mels)
        elif len(self.mels) > self.time.lookahead:
            self._use_frame(self.conditioning(np.array(self.mels)), self.made)
        else:
            self.phase = self.graph.hop

    def flush(self) -> bool:
        """End of the utterance: make the next of the last frames (True), or none is left."""
        self.ended = True
        if self.made >= len(self.mels) + self.time.frames_delta:
            return False
        self._use_frame(self.conditioning(np.array(self.mels)), self.made)
        return True

    def frames_out(self, frames: int) -> int:
        """Output frames (hop samples each) for a mel of `frames` frames."""
        return max(frames + self.time.frames_delta, 0)

    # -- sample program --------------------------------------------------------------------
    def step_logits(self, x) -> np.ndarray:
        """The head's output for sample input x (a class, or a value for a scalar input)."""
        if self.phase >= self.graph.hop:
            raise RuntimeError("push a mel frame first")
        g = self.graph
        env: dict[str, np.ndarray] = {}
        for name, val in self.frame_env.items():
            env[name] = val[:, self.phase:self.phase + 1] if self.read[name] == Rate.TABLE else val
        env[g.class_input] = np.array([[x]], self.sampler.input_dtype)
        for node in self.programs.sample:
            ins = [env[t] for t in node.inputs]
            if node.op == "conv_ring":
                out = self._ring_step(node, ins[0][:, 0])
            else:
                out = self.eval(node, ins)
            env[node.outputs[0]] = out
        self.phase += 1
        return env[g.output][:, 0].copy()

    def _ring_step(self, node: Node, x: np.ndarray) -> np.ndarray:
        ring, length = self.rings[node.name], node.attrs["ring_len"]
        pos = (self.ring_pos[node.name] + 1) % length
        self.ring_pos[node.name] = pos
        ring[pos] = x
        k, d = node.attrs["kernel"], node.attrs["dilation"]
        taps = [ring[(pos - (k - 1 - j) * d) % length][:, None] for j in range(k)]
        return self.conv(node, taps)

    def generate(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """n samples of the current frame: (history values, pcm); a history value is the class,
        or the sample's value for a mixture or Gaussian head (golden/sampler.py)."""
        history = np.empty(n, self.sampler.history_dtype())
        for i in range(n):
            self.prev = self.sampler.draw(self.step_logits(self.sampler.feed(self.prev)))
            history[i] = self.prev
        return history, self.sampler.pcm(history)

    def vocode(self, mel: np.ndarray, seed: int = 0, temperature: float = 1.0,
               frames: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Free-running generation over mel frames [F, n_mels]: (history values, pcm), hop
        samples for each output frame (F plus the conditioning's frames_delta, or the first
        `frames`), the last ones flushed."""
        self.reset(seed, temperature)
        mel = np.asarray(mel, F)
        env = self.conditioning(mel)
        self.mels, self.ended = list(mel), True
        parts = []
        total = self.frames_out(mel.shape[0])
        for frame in range(total if frames is None else min(frames, total)):
            self._use_frame(env, frame)
            parts.append(self.generate(self.graph.hop))
        if not parts:
            return np.zeros(0, self.sampler.history_dtype()), np.zeros(0, np.int16)
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def replay(self, mel: np.ndarray, history: np.ndarray, seed: int, temperature: float
               ) -> np.ndarray:
        """What this model samples at each step given another run's history values: the
        history is teacher-forced, the draws come from this model's own seeded stream."""
        self.reset(seed, temperature)
        x = np.concatenate([np.array([silence(self.graph)], history.dtype), history[:-1]])
        logits = self.teacher_forced(self.sampler.feed(x), mel)
        self.reset(seed, temperature)
        return np.array([self.sampler.draw(row) for row in logits],
                        self.sampler.history_dtype())

    # -- whole sequences -------------------------------------------------------------------
    def sample_conditioning(self, mel: np.ndarray, samples: int) -> dict[str, np.ndarray]:
        """What the sample program reads of the conditioning at each of the first ``samples``
        samples, for mel frames [F, n_mels]: every frame-rate tensor it reads, (C, samples) (a
        table's rows in order, a frame's row repeated over its hop)."""
        cond = self.conditioning(mel)
        frames, hop = self.frames_out(np.asarray(mel).shape[0]), self.graph.hop
        return {name: (cond[name][:, :samples] if rate == Rate.TABLE
                       else np.repeat(cond[name][:, :frames], hop, axis=1)[:, :samples])
                for name, rate in self.read.items()}

    def teacher_forced(self, x: np.ndarray, mel: np.ndarray,
                       trace: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Logits [T, classes] for sample inputs x [T] (classes, or values for a scalar input)
        and mel frames [F, n_mels], T at most the output frames' samples (a prefix: the
        conditioning is the whole mel's), from a fresh state. ``trace``, when given, receives
        every sample-rate tensor (C, T)."""
        g = self.graph
        mel = np.asarray(mel, F)
        x = np.asarray(x).reshape(-1)
        frames = self.frames_out(mel.shape[0])
        if x.shape[0] > frames * g.hop:
            raise ValueError(f"{x.shape[0]} samples for {frames} output frames of hop {g.hop}")
        env = self.sample_conditioning(mel, x.shape[0])
        env[g.class_input] = x[None, :].astype(self.sampler.input_dtype)
        for node in self.programs.sample:
            ins = [env[t] for t in node.inputs]
            if node.op == "conv_ring":
                k, d = node.attrs["kernel"], node.attrs["dilation"]
                pad = np.full((ins[0].shape[0], (k - 1) * d), self.pad_value(node), ins[0].dtype)
                xp = np.concatenate([pad, ins[0]], axis=1)
                taps = [xp[:, j * d: j * d + x.shape[0]] for j in range(k)]
                out = self.conv(node, taps)
            else:
                out = self.eval(node, ins)
            env[node.outputs[0]] = out
        if trace is not None:
            trace.update(env)
        return np.ascontiguousarray(env[g.output].T)
