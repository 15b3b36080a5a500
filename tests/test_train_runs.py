"`cdpose.launch.train_runs`, the `inline` launcher of `cdpose tables`: runs in processes side by side give the numbers a lone run gives."
import json, os
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from cdpose.profiles import profile
from cdpose.launch import RunPlan, RunSpec, train_runs

def _job(cfg, data, out):
    "A spec of a run that starts from nothing planned (as `RunPlan.add` makes it for such a run)."
    from cdpose.checkpoints import data_fingerprint, run_fingerprint
    from cdpose.profiles import config_dict
    return RunSpec(cfg, str(data), str(Path(out).resolve()), "cpu", {}, run_fingerprint(config_dict(cfg), data_fingerprint(data)))

def _final(run):
    return torch.load(Path(run) / "checkpoints" / "final.pt", map_location="cpu", weights_only=True)

def test_runs_side_by_side_equal_a_lone_run(tiny_synth, tmp_path):
    data = tiny_synth / "pt18"
    base = profile("tiny", ["threads=1", "stage1.epochs=1", "stage2.epochs=1"])
    s1 = tmp_path / "stage1"
    stage1 = replace(base, stage2=replace(base.stage2, epochs=0))
    full = replace(base, stage1_checkpoint=str(s1 / "checkpoints" / "stage1.pt"))
    other = replace(full, seed=1)
    plan = RunPlan([])
    plan.add(stage1, data, s1); plan.add(full, data, tmp_path / "full"); plan.add(other, data, tmp_path / "other")
    s1_spec, full_spec, other_spec = plan.queued()
    assert full_spec.after == other_spec.after == [s1_spec.out]
    # the stage-2 runs are queued first: they must wait for the stage 1 they start from
    log = []
    train_runs([full_spec, other_spec, s1_spec], workers=2, log=log.append)
    assert log[0] == f"training {s1}" and sum(l.startswith("finished") for l in log) == 3
    train_runs([_job(full, data, tmp_path / "alone")], workers=1)
    a, b = _final(tmp_path / "full"), _final(tmp_path / "alone")
    assert a["val"] == b["val"] and all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    assert not all(torch.equal(a["model"][k], v) for k, v in _final(tmp_path / "other")["model"].items())
    for run in ("full", "other", "stage1", "alone"):
        man = json.loads((tmp_path / run / "manifest.json").read_text())
        assert man["status"] == "finished" and man["float_path"]["threads"] == 1 and man["config"]["threads"] == 1
    assert torch.get_num_threads() != 1 or len(os.sched_getaffinity(0)) == 1   # the lone run gave this process its threads back

def test_a_failed_run_is_named(tiny_synth, tmp_path):
    cfg = profile("tiny", ["threads=1", "stage1.epochs=0", "stage2.epochs=1", "stage1_checkpoint=/nonexistent/stage1.pt"])
    with pytest.raises(RuntimeError, match=r"training \S*bad2? failed: CheckpointError: /nonexistent/stage1.pt"):
        train_runs([_job(cfg, tiny_synth / "pt18", tmp_path / "bad"), _job(cfg, tiny_synth / "pt18", tmp_path / "bad2")], workers=2, log=lambda s: None)
