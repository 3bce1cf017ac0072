"""Passes: gate fusion, rate hoisting, streaming lowering, memory plan, statistics."""

from __future__ import annotations

from wncc.ir import Rate
from wncc.passes import memory, rates, stats
from wncc.pipeline import load


def test_gate_fused_and_dead_residual_removed(models):
    g = load(models["tiny"])
    assert len(g.ops("gate")) == 4
    assert not g.ops("tanh") and not g.ops("sigmoid") and not g.ops("slice")
    # the last layer's residual projection does not reach the logits: 3 res convs remain
    assert len([n for n in g.ops("conv") if "res" in n.attrs.get("label", "")]) == 3


def test_conditioning_hoisted_to_frame_rate(models):
    g = load(models["tiny"])
    prog = rates.split(g)
    cond = [n for n in prog.frame if n.op == "conv"]
    assert len(cond) == 4 and all(g.tensors[n.outputs[0]].rate == Rate.FRAME for n in cond)
    assert all(n.op != "conv" or "cond" not in n.attrs.get("label", "") for n in prog.sample)


def test_transposed_upsampling_is_a_frame_table(models):
    g = load(models["tiny-transpose"])
    (convt,) = g.ops("convt")
    assert g.tensors[convt.outputs[0]].rate == Rate.TABLE
    assert convt in rates.split(g).frame
    plan = memory.plan(g)
    assert plan.locations[convt.outputs[0]].rows == 200


def test_ring_buffers_sized_by_dilation(models):
    g = load(models["tiny"])
    rings = g.ops("conv_ring")
    assert [r.attrs["ring_len"] for r in rings] == [2, 3, 5, 9]
    plan = memory.plan(g)
    assert plan.sizes["ring_f32"] == sum(r.attrs["ring_len"] * 16 for r in rings)
    assert [plan.rings[r.name] for r in rings] == [("ring_f32", 0), ("ring_f32", 32),
                                                   ("ring_f32", 80), ("ring_f32", 160)]


def test_arena_reuses_dead_tensors_without_overlapping_live_ones(models):
    g = load(models["tiny"])
    plan = memory.plan(g)
    prog = rates.split(g).sample
    total = sum(g.tensors[n.outputs[0]].channels for n in prog if n.op not in ("slice", "upsample"))
    assert plan.sizes["arena_f32"] < total / 2
    # replay lifetimes: no two simultaneously live arena tensors overlap
    last = {}
    for i, n in enumerate(prog):
        for t in n.inputs:
            last[t] = i
    last[g.output] = len(prog)
    live = []
    for i, n in enumerate(prog):
        t = n.outputs[0]
        loc = plan.locations[t]
        if loc.region != "arena_f32" or n.op == "slice":
            continue
        span = (loc.offset, loc.offset + g.tensors[t].channels)
        for other, (a, b) in live:
            if last.get(other, -1) >= i:
                assert span[1] <= a or b <= span[0], (t, other)
        live.append((t, span))


def test_stats_receptive_field_params_macs(models, wavenet):
    g = load(models["tiny"])
    st = stats.compute(g)
    cfg = wavenet.CONFIGS["tiny"]
    assert st.receptive_field == cfg.receptive_field == 16
    model = wavenet.build("tiny")
    last_res = sum(p.numel() for p in model.layers[-1].res.parameters()) if model.layers[-1].res else 0
    assert st.parameters == sum(p.numel() for p in model.parameters()) - last_res
    r, gch, s, m = 16, 32, 32, 80
    per_layer = gch * r * 2 + (gch // 2) * s + (gch // 2) * r
    expected = 4 * per_layer - (gch // 2) * r + s * s + s * 256
    assert st.macs_per_sample == expected
    assert st.macs_per_frame == 4 * gch * m
