"The committed L_s-variant table is what tools/ls_variants.py makes of the committed run records (no number typed by hand)."
import shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_committed_ls_variant_table_is_built_from_the_committed_records(tmp_path):
    work = tmp_path / "work"; work.mkdir()
    shutil.copy(ROOT / "paper_tables" / "invariance_ls_variants_runs.json", work / "variants.json")
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "ls_variants.py"), "table", "--work", str(work), "--out", str(tmp_path / "out"),
                        "--device-name", "NVIDIA H200"], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "out" / "invariance_ls_variants.csv").read_text() == (ROOT / "paper_tables" / "invariance_ls_variants.csv").read_text()
