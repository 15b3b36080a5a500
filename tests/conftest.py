import os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

def run_cdpose(*args, cwd=None, check=False):
    "Run the installed `cdpose` console command; returns the CompletedProcess."
    exe = Path(sys.executable).parent / "cdpose"
    r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, cwd=cwd)
    if check and r.returncode != 0: raise AssertionError(f"cdpose {' '.join(map(str, args))} failed:\n{r.stderr}")
    return r

@pytest.fixture(scope="session")
def tiny_synth(tmp_path_factory):
    "A tiny SynthPoseTrack (PoseTrack18 layout, plus the 17 and 21 variants), made once per session."
    from cdpose.synthetic import TINY_SYNTH, generate_synthposetrack
    root = tmp_path_factory.mktemp("synth")
    generate_synthposetrack(root / "pt18", seed=0, config=TINY_SYNTH, progress=False, pt17=root / "pt17", pt21=root / "pt21")
    return root

POSEVAL_CHECK = Path(os.environ.get("POSEVAL_CHECK", ROOT.parent / "shared" / "tools" / "poseval_check.py"))

def poseval_ap(gt_dir, pred_dir) -> dict:
    """The official poseval's AP row (JSON from shared/tools/poseval_check.py) for a ground-truth and a prediction folder.
    Skipped where poseval is not beside the clone (a user's checkout); in CI (CI=true) its absence is a failure."""
    if not POSEVAL_CHECK.is_file():
        msg = f"the official poseval is not available ({POSEVAL_CHECK} missing; set POSEVAL_CHECK)"
        if os.environ.get("CI"): pytest.fail(msg)
        pytest.skip(msg)
    import json
    r = subprocess.run([sys.executable, str(POSEVAL_CHECK), str(gt_dir), str(pred_dir)], capture_output=True, text=True)
    assert r.returncode == 0, f"poseval failed on {pred_dir}:\n{r.stderr[-3000:]}"
    return json.loads(r.stdout)

@pytest.fixture(scope="session")
def tiny_run(tiny_synth, tmp_path_factory):
    """The tiny-profile model, trained once per test session (both stages, one epoch each, in this process: seconds) on the
    tiny SynthPoseTrack: every test that needs a trained model or its run folder (checkpoints, manifest, metrics) shares it.
    The pipeline is under test, not the accuracy."""
    import torch
    from cdpose.profiles import profile
    from cdpose.training import Trainer
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny_run")
    Trainer(profile("tiny", ["stage1.epochs=1", "stage2.epochs=1"]), tiny_synth / "pt18", out, "cpu", progress=False).run()
    return out
