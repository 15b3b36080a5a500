"research/smoke_budget: its committed table is what its table builder makes of its committed evaluations."
import json

import pandas as pd
import pytest

from conftest import ROOT

def test_budget_table_is_built_from_its_committed_runs():
    from research.smoke_budget.budget import table
    tables = ROOT / "research" / "smoke_budget" / "tables"
    runs = pd.read_csv(tables / "budget_runs.csv")
    assert runs.groupby("variant").seed.nunique().eq(3).all()      # every variant over the tables' three seeds
    pd.testing.assert_frame_equal(table(runs), pd.read_csv(tables / "budget.csv"), check_dtype=False)

def test_a_variant_that_changes_more_than_its_epochs_is_refused(tmp_path):
    from research.smoke_budget.budget import check_variant
    like, run = tmp_path / "like", tmp_path / "run"
    like.mkdir(); run.mkdir()
    cfg = {"seed": 0, "stage1": {"epochs": 20}, "stage2": {"epochs": 2}, "clip": {"rotation": 15.0}}
    (like / "spec.json").write_text(json.dumps({"config": cfg}))
    ok = {**cfg, "stage2": {"epochs": 1}}
    (run / "manifest.json").write_text(json.dumps({"config": ok, "status": "finished"}))
    assert check_variant(run, like)["config"] == ok
    (run / "manifest.json").write_text(json.dumps({"config": {**ok, "clip": {"rotation": 30.0}}, "status": "finished"}))
    with pytest.raises(SystemExit, match="clip.rotation"): check_variant(run, like)
