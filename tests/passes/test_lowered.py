"""The analyses of the final graph are computed once, by the pipeline's last pass, and the golden
model, the code generator and the CLI read that one object."""

from __future__ import annotations

from wncc.codegen import project
from wncc.golden.model import GoldenModel
from wncc.passes import lowered, memory, rates, stats, timeaxis
from wncc.pipeline import PASSES, load
from wncc.targets import load as load_target


def test_the_last_pass_lowers_and_nothing_recomputes(models, monkeypatch):
    assert PASSES[-1][0] == "lowered"
    graph = load(models["tiny"])
    low = graph.lowered
    assert low is lowered.of(graph) and low.time is graph.time
    assert [n.name for n in low.programs.sample] == [n.name for n in rates.split(graph).sample]
    assert low.stats == stats.compute(graph)

    def again(*_args):
        raise AssertionError("an analysis was recomputed")

    for module, name in ((memory, "plan"), (stats, "compute"), (timeaxis, "analyze")):
        monkeypatch.setattr(module, name, again)
    monkeypatch.setattr(lowered, "split", again)
    golden = GoldenModel(graph)
    assert golden.programs is low.programs and golden.time is low.time
    files = project.render(graph, load_target("host"), "wncc compile tiny.onnx")
    assert f"{low.stats.macs_per_sample}" in files["report.json"]


def test_a_graph_built_by_hand_is_lowered_on_first_use(models):
    graph = load(models["tiny"])
    graph.lowered = None
    first = lowered.of(graph)
    assert lowered.of(graph) is first and first.plan.sizes == memory.plan(graph).sizes
