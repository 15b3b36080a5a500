"Runs that refuse the wrong data: a resume on other data, a stage 1 of another model."
import json
from conftest import run_cdpose

def _train(data, out, *sets, resume=False):
    return run_cdpose("train", "--profile", "tiny", "--data", data, "--out", out, "--quiet", "--device", "cpu",
                      "--set", "stage2.epochs=1", *sets, *(["--resume"] if resume else []))

def test_resume_on_other_data_is_refused_naming_both(tiny_synth, tmp_path):
    run = tmp_path / "run"
    r = _train(tiny_synth / "pt18", run, "stage1.epochs=0")
    assert r.returncode == 0, r.stderr[-1500:]
    before = (run / "manifest.json").read_text()
    r = _train(tiny_synth / "pt21", run, "stage1.epochs=0", resume=True)
    fp = json.loads(before)["data_fingerprint"]
    assert r.returncode == 2 and "made on other data" in r.stderr and fp in r.stderr and str(tiny_synth / "pt21") in r.stderr, r.stderr[-1500:]
    assert (run / "manifest.json").read_text() == before          # nothing of the run was touched

def test_stage1_of_another_model_is_an_error_unless_asked(tiny_synth, tmp_path):
    r = _train(tiny_synth / "pt18", tmp_path / "s1", "stage1.epochs=1", "stage2.epochs=0")
    assert r.returncode == 0, r.stderr[-1500:]
    s1 = tmp_path / "s1" / "checkpoints" / "stage1.pt"
    r = _train(tiny_synth / "pt18", tmp_path / "other", f"stage1_checkpoint={s1}", "model.backbone_depth=2")
    assert r.returncode == 2 and "does not fit this model" in r.stderr and "stage1.pt" in r.stderr and "partial_stage1" in r.stderr, r.stderr[-1500:]
    assert not (tmp_path / "other" / "checkpoints" / "last.pt").exists()
    r = _train(tiny_synth / "pt18", tmp_path / "partial", f"stage1_checkpoint={s1}", "model.backbone_depth=2", "partial_stage1=True")
    assert r.returncode == 0, r.stderr[-1500:]
    r = _train(tiny_synth / "pt18", tmp_path / "same", f"stage1_checkpoint={s1}")    # its own model: fine
    assert r.returncode == 0, r.stderr[-1500:]

def test_unfinished_synthposetrack_is_regenerated_not_reused(tiny_synth, tmp_path):
    "A generation killed half-way (or by a full disk) has no completion marker: the tables regenerate it."
    import shutil
    from cdpose.synthetic import synth_complete
    from cdpose.tables import experiment_site
    from cdpose.dataset import load_posetrack
    base = tmp_path / "synth_tiny_seed0"
    shutil.copytree(tiny_synth / "pt18", base / "pt18")
    assert synth_complete(base / "pt18")
    (base / "pt18" / "synth.json").unlink()                                     # as a killed generation leaves it ...
    for f in list((base / "pt18" / "annotations" / "val").glob("*.json")): f.unlink()   # ... with videos missing
    assert not synth_complete(base / "pt18")
    site = experiment_site("tiny", tmp_path / "tiny_seed0", seed=0)
    assert synth_complete(base / "pt18") and site["releases"]["18"]["root"] == str(base / "pt18")
    assert len(load_posetrack(base / "pt18", "val", progress=False).videos) == len(load_posetrack(tiny_synth / "pt18", "val", progress=False).videos)
