"The committed L_s-variant tables are what tools/ls_variants.py makes of the committed run records (no number typed by hand)."
import shutil, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]

ANCHOR_LONG = ["--reference", str(ROOT / "paper_tables" / "invariance_frame_anchor_long_runs.json")]   # the warm table's first rows

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
    shutil.copy(ROOT / "paper_tables" / records, work / "variants.json")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "ls_variants.py"), "table", "--variants", variants, "--work", str(work), *extra,
                        "--out", str(tmp_path / "out"), "--device-name", "NVIDIA H200" if variants in ("gpu", "table6_long") else "cpu"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "out" / f"{table}.csv").read_text() == (ROOT / "paper_tables" / f"{table}.csv").read_text()

def test_committed_warm_design_runs_meet_the_toy_thresholds():
    """07a says both seeds' smoke models trained with the warm E_S and the relative L_s (lambda_s 0.1) pass its toy checks (thresholds
    as in 07a's toy cell): their committed records must, and must be those settings."""
    import json
    runs = {r["variant"]: r for r in json.loads((ROOT / "paper_tables" / "table6_warm_design_runs.json").read_text())}
    for seed in (0, 1):
        r = runs[f"warm design, Z and S, seed {seed}"]
        assert {"loss.ls_relative=True", "loss.lambda_s=0.1", "loss.ls_features_fixed=True", "loss.lambda_frame=1.0", "loss.frame_target=box"} <= set(r["overrides"])
        z, s = r["r2"][0], r["r2"][1]
        assert r["distances"]["transformed copy"] / r["distances"]["another person"] < 0.3     # a copy's Z stays close
        assert (s["translation x"] + s["translation y"]) / 2 > 0.3                             # S reads the position ...
        assert (z["translation x"] + z["translation y"]) / 2 < 0.2                             # ... and Z does not
        assert s["rotation"] > 0.5
