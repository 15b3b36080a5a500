"tools/lt_levels_bench.py: its committed table is what it makes of the committed JSON lines, and a small timing run agrees with the exact sum."
import json, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "lt_levels_bench.py"

def test_committed_table_is_built_from_the_committed_lines(tmp_path):
    bench = ROOT / "paper_tables" / "benchmarks"
    lines = sorted((bench / "lt_levels").glob("*.jsonl"), key=lambda p: p.name != "h200.jsonl")   # the H200's first
    r = subprocess.run([sys.executable, str(TOOL), "table", "--json", *map(str, lines), "--out", str(tmp_path), "--commit", "78431a4"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "benchmarks" / "benchmark_lt_levels.csv").read_text() == (bench / "benchmark_lt_levels.csv").read_text()
    # recorded beside it and listed in the benchmarks' index; the committed record names the same table
    assert json.loads((tmp_path / "benchmarks" / "manifest_lt_levels.json").read_text())["tables"] == ["benchmark_lt_levels.md"]
    assert "[benchmark_lt_levels.md](benchmark_lt_levels.md)" in (tmp_path / "benchmarks" / "README.md").read_text()
    assert json.loads((bench / "manifest_lt_levels.json").read_text())["tables"] == ["benchmark_lt_levels.md"]

@pytest.mark.slow
def test_timing_run_reports_both_products_close_to_exact():
    r = subprocess.run([sys.executable, str(TOOL), "time", "--device", "cpu", "--clips", "1", "--levels", "16"],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    out = json.loads(r.stdout)
    for dtype in ("float32", "bfloat16"):
        assert out[f"{dtype}, frames coded once per clip, ms"] > 0 and out[f"{dtype}, each pair coded, ms"] > 0
        assert out[f"{dtype}, rel err E vs exact"] < 0.01 and out[f"{dtype}, grad cosine vs exact"] > 0.99
