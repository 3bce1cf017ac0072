"""wncc/prune/sensitivity.py, `wncc sensitivity` and `wncc prune --allocation`: the measured
costs are real NLL differences on the corpus (recomputed here by hand for one group), the model
is left as it was, the allocation reaches its target exactly at the least measured cost, and
prune meets every layer's allocated share."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from test_prune import TINY, write_corpus  # noqa: E402

from wncc.cli import main  # noqa: E402
from wncc.errors import WnccError  # noqa: E402
from wncc.prune import core, prune, targets  # noqa: E402
from wncc.prune.examples import load_model  # noqa: E402
from wncc.prune.qat import FakeQuant  # noqa: E402
from wncc.prune.sensitivity import Group, allocate, groups_of, measure  # noqa: E402


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    return write_corpus(tmp_path_factory.mktemp("corpus"))


def test_costs_are_nll_differences_and_the_model_is_restored(corpus):
    model, _, _ = load_model(TINY)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = measure(model, str(corpus), [0.5, 0.9], ["int4"], seconds=0)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    names = [g.name for g in result.groups]
    assert names == ["layers.0", "layers.1", "layers.2", "layers.3", "head1.weight",
                     "head2.weight"]
    assert result.baseline_bits == pytest.approx(core.evaluate(model, corpus, 0), abs=1e-6)
    # head2 at 90 % and at int4, by hand
    head2 = [t for t in targets(model) if t.name == "head2.weight"]
    with torch.no_grad():
        core.apply_masks(head2, core.compute_masks(head2, 0.9, core.Pattern(), "layer"))
    pruned = core.evaluate(model, corpus, 0)
    model.load_state_dict(before)
    with torch.no_grad():
        head2[0].param.copy_(FakeQuant(7, 0)(head2[0].param))
    int4 = core.evaluate(model, corpus, 0)
    group = result.groups[-1]
    assert group.sparsity["0.9"] == pytest.approx(pruned - result.baseline_bits, abs=1e-5)
    assert group.precision["int4"] == pytest.approx(int4 - result.baseline_bits, abs=1e-5)
    assert group.sparsity["0.9"] > group.sparsity["0.5"] > 0  # the output layer matters
    assert group.params == 256 * 32


def test_groups_keep_a_residual_layer_together():
    model, _, _ = load_model(TINY)
    by_layer = groups_of(targets(model), "layer")
    assert [t.name for t in by_layer["layers.2"]] == [
        "layers.2.conv.weight", "layers.2.cond.weight", "layers.2.skip.weight",
        "layers.2.res.weight"]
    assert len(groups_of(targets(model), "weight")) == len(targets(model))


def _groups() -> list[Group]:
    return [Group("a", ["a.w"], 1000, {"0.5": 0.01, "0.9": 0.02}, {}),
            Group("b", ["b.w", "b.v"], 1000, {"0.5": 0.50, "0.9": 0.40}, {}),  # non-monotone
            Group("c", ["c.w"], 2000, {"0.5": 0.03, "0.9": 1.00}, {})]


def test_allocation_reaches_the_target_at_the_least_cost():
    out = allocate(_groups(), 0.5)
    share = out["layers"]
    weights = {"a.w": 1000, "b.w": 500, "b.v": 500, "c.w": 2000}
    assert sum(share.get(w, 0) * n for w, n in weights.items()) == pytest.approx(0.5 * 4000)
    # the cheapest steps per pruned weight: a to 0.9 (0.02 / 900), c to 0.5 (0.03 / 1000),
    # then c towards 0.9 (0.97 / 800) is dearer than b to 0.5 (0.5 / 500): b in part
    assert share["a.w"] == 0.9 and share["c.w"] == 0.5
    assert share["b.w"] == share["b.v"] == pytest.approx((2000 - 900 - 1000) / 1000)
    assert out["predicted_bits"] == pytest.approx(0.02 + 0.03 + 0.5 * 0.2)


def test_allocation_beyond_the_grid_is_refused():
    with pytest.raises(WnccError, match="beyond the measured grid"):
        allocate(_groups(), 0.95)


def test_prune_meets_each_allocated_share(tmp_path):
    model, _, _ = load_model(TINY)
    tgts = targets(model)
    allocation = {tgts[0].name: 0.9, tgts[3].name: 0.25, tgts[-1].name: 0.5}
    res = prune(model, allocation)
    for layer in res.layers:
        want = allocation.get(layer.name, 0.0)
        assert layer.zeros == math.floor(want * layer.params + 0.5), layer.name
    assert res.scope == "layer" and res.to_dict()["allocation"] == allocation
    total = sum(t.param.numel() for t in tgts)
    pruned = sum(share * t.param.numel() for t in tgts for name, share in allocation.items()
                 if t.name == name)
    assert res.requested == pytest.approx(pruned / total)
    with pytest.raises(WnccError, match="not a prunable weight"):
        prune(load_model(TINY)[0], {"nope.weight": 0.5})
    with pytest.raises(WnccError, match="sparsity must be in"):
        prune(load_model(TINY)[0], {tgts[0].name: 1.0})


def test_iterative_schedule_scales_the_allocation(corpus):
    """Every pruning event of the iterative schedule cuts each layer to its share times the
    event's fraction of the final target; the last event lands on the allocation."""
    model, _, _ = load_model(TINY)
    tgts = targets(model)
    allocation = {tgts[1].name: 0.8, tgts[5].name: 0.4}
    res = prune(model, allocation, method="iterative", corpus=corpus, steps=8, events=2,
                batch=2, frames=8, threads=1)
    first, last = res.history[0], res.history[-1]
    assert 0 < first["target"] < res.requested and last["target"] == pytest.approx(res.requested)
    # each layer scaled alike: the first event's overall cut is its target (not the final one)
    assert first["achieved"] == pytest.approx(first["target"], abs=1e-3)
    for layer in res.layers:
        want = allocation.get(layer.name, 0.0)
        assert layer.zeros == math.floor(want * layer.params + 0.5), layer.name


def test_cli_measures_allocates_and_prunes(corpus, tmp_path, capsys):
    report = tmp_path / "sens.json"
    assert main(["sensitivity", str(TINY), "--data", str(corpus), "--eval-seconds", "0",
                 "--sparsities", "0.5", "0.9", "--precisions", "int8", "--target-sparsity",
                 "0.6", "--json", str(report)]) == 0
    data = json.loads(report.read_text())
    assert data["allocation"]["target"] == 0.6 and data["grouping"] == "layer"
    assert "allocation for 0.6" in capsys.readouterr().out
    out = tmp_path / "pruned.onnx"
    assert main(["prune", str(TINY), "--allocation", str(report), "-o", str(out), "-q"]) == 0
    assert "achieved 0.6000" in capsys.readouterr().out
    assert main(["prune", str(TINY), "--allocation", str(report), "--sparsity", "0.5",
                 "-o", str(out)]) == 2
    assert "one of them" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{}")
    assert main(["prune", str(TINY), "--allocation", str(tmp_path / "bad.json"),
                 "-o", str(out)]) == 2
    assert "not an allocation" in capsys.readouterr().err
