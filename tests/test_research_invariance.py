"""The invariance study (research/invariance): its committed tables are what its ls_variants makes of the committed run records (no number
typed by hand), and its records meet what its notebook says of them."""
import shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "research" / "invariance" / "tables"
sys.path.insert(0, str(ROOT))
import research.invariance.ls_variants as ls_variants   # noqa: E402  (the study, run from the repository root)

ANCHOR_LONG = ["--reference", str(TABLES / "invariance_frame_anchor_long_runs.json")]   # the warm table's first rows

@pytest.mark.parametrize("records, variants, table, extra", [
    ("invariance_ls_variants_runs.json", "gpu", "invariance_ls_variants", []),             # the H200 runs
    ("invariance_s_variants_runs.json", "anchored", "invariance_s_variants", []),           # the CPU runs (any CPU set writes this table)
    ("invariance_canonical_runs.json", "canonical", "invariance_canonical", []),            # E_Z on F moved back by S^-1, this CPU
    ("invariance_frame_anchor_runs.json", "frame_a", "invariance_frame_anchor", []),        # S held to the person's frame, 2 epochs
    ("invariance_frame_anchor_long_runs.json", "box_long_a", "invariance_frame_anchor_long", []),
    ("invariance_warm_es_runs.json", "warm", "invariance_warm_es", ANCHOR_LONG),            # E_S fitted to the box frame before stage 2
    ("table6_invariant_design_runs.json", "table6_design", "table6_invariant_design", []),
    ("table6_invariant_design_long_runs.json", "table6_long", "table6_invariant_design_long", []),              # the H200 runs
    ("table6_invariant_design_from_stage1_runs.json", "table6_from_stage1", "table6_invariant_design_from_stage1", []),
    ("table6_warm_design_runs.json", "table6_warm", "table6_warm_design", [])])
def test_committed_ls_variant_table_is_built_from_the_committed_records(tmp_path, records, variants, table, extra):
    work = tmp_path / "work"; work.mkdir()
    shutil.copy(TABLES / records, work / "variants.json")
    ls_variants.main(["table", "--variants", variants, "--work", str(work), *extra, "--out", str(tmp_path / "out"),
                      "--device-name", "NVIDIA H200" if variants in ("gpu", "table6_long") else "cpu"])     # in this process: no start-up each
    assert (tmp_path / "out" / f"{table}.csv").read_text() == (TABLES / f"{table}.csv").read_text()

def test_every_variant_set_is_a_valid_configuration():
    "Each variant of ls_variants, with the study's options registered, passes the core's configuration checks."
    from cdpose.profiles import profile
    for name, (sets, eq) in (v for s in ls_variants.VARIANT_SETS.values() for v in s.items()):
        profile("smoke", ["stage1_checkpoint=x.pt", *sets, *([f"loss.terms.s_equivariance={eq}"] if eq else [])])   # raises if not

def test_study_terms_train_and_are_refused_without_the_study(tmp_path):
    "Without `import research.invariance` the core refuses the study's names in one line; with it, a tiny model trains on them."
    import subprocess
    code = "from cdpose.profiles import profile; profile('tiny', ['loss.terms.hs_swapped=1.0'])"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode != 0 and "is not a registered extra loss term" in r.stderr.strip().splitlines()[-1]
    import torch
    from cdpose.model import CDPose, cdpose_loss
    from cdpose.profiles import profile
    from cdpose.semantic import random_similarity
    cfg = profile("tiny", ["loss.lambda_s=0", "loss.terms.hs_swapped=1.0", "loss.terms.stheta=0.1", "loss.terms.s_relative_fixed=0.1",
                           "loss.terms.frame_box=1.0", "model.semantic.space=canonical", "model.semantic.transform_pooling=centroids"])
    g = torch.Generator().manual_seed(0)
    m = CDPose(cfg.model)
    B = 2
    batch = {"images": torch.randn(B, 5, 3, 64, 48, generator=g), "target": torch.rand(B, 5, 17, 16, 12, generator=g),
             "target_weight": torch.ones(B, 5, 17), "ls_transform": random_similarity(B, 30, 0.25, g, max_translation=0.15),
             "crop_frame": random_similarity(B, 15, 0.15, g)}
    terms = cdpose_loss(m, batch, m(batch["images"]), cfg.loss)
    assert {"L_hs_swapped", "L_stheta", "L_s_relative_fixed", "L_frame_box"} <= set(terms) and "L_s" not in terms
    terms["loss"].backward()
    assert m.space.transform_encoder.head[-1].weight.grad.abs().sum() > 0      # the terms train E_S

def test_probe_notebook_runs_on_a_trained_model(tiny_synth, tiny_run, tmp_path):
    "The study's probe notebook (papermill, through `ls_variants probe`) reads Z and S of the session's tiny model and writes its table."
    r = subprocess.run([sys.executable, "-m", "research.invariance.ls_variants", "probe", "--profile", "tiny", "--checkpoint",
                        f"tiny model={tiny_run / 'checkpoints' / 'final.pt'}", "--data", str(tiny_synth / "pt18"), "--out", str(tmp_path),
                        "--table", "probe_tiny"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-3000:]
    probe = (tmp_path / "probe_tiny.csv").read_text()
    assert "tiny model" in probe and "S (6 numbers)" in probe and "profile: tiny" in (tmp_path / "probe_tiny.md").read_text()
