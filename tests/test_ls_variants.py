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
