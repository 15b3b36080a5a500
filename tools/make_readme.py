"""Write README.md from nbs/index.ipynb (nbdev's own `nbdev_readme` needs Quarto, which we do not install), and end it with
the committed results, each number read from the record that made it (no number in the README is typed by hand).

Usage: python tools/make_readme.py [--check]   (--check exits 1 if README.md is out of date)
"""
import json, sys
from pathlib import Path

import nbformat
import pandas as pd
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "paper_tables"

def _label(path: Path) -> dict:
    return json.loads(path.with_suffix("").with_suffix(".label.json").read_text())

def smoke_row(table: str, method: str, boxes: str) -> str:
    "A row of ours in a committed table (Tables 1-3), on `boxes` ('detected boxes' or 'ground-truth boxes'): mean mAP (per seed)."
    t = pd.read_csv(TABLES / f"{table}.csv").set_index("method")
    r = next((r for m, r in t.iterrows() if m.startswith("ours") and method in m and boxes in m), None)
    if r is None: sys.exit(f"paper_tables/{table}.csv: no row of ours for {method} on {boxes}: regenerate the tables")
    return f"{r['Mean']:.2f} ({r['Mean per seed']})"

def results() -> str:
    "The committed results section: the smoke tables' cost and headline numbers, and the GPU check, from their records."
    man = json.loads((TABLES / "manifest_smoke.json").read_text())
    train = next(n for n in man["notebooks"] if n["notebook"] == "00_train_models.ipynb")
    t1 = _label(TABLES / "table1.csv")
    gpu = pd.read_csv(TABLES / "benchmarks" / "benchmark_gpu.csv")
    if "compile" in gpu: gpu = gpu[gpu["compile"] == "off"]        # the eager rows (the compiled step has its own row there)
    gpu = gpu.set_index("measure")
    glab = _label(TABLES / "benchmarks" / "benchmark_gpu.csv")
    rows = [("`cdpose tables --profile smoke`: every notebook", f"{man['notebooks_wall_s'] / 60:.1f} min, of them training {train['wall_s'] / 60:.1f} min",
             f"{man['machine']}; {man['environment']}, commit {train['commit']}" if man.get("environment")
             else f"{man['machine']}, commit {train['commit']}"),
            *[(f"Table {n} ({fmt} validation, {boxes}), {what}: mAP, mean (per seed)", smoke_row(f"table{n}", key, boxes),
               f"{t1['data']}, smoke, commit {t1['commit']}")
              for n, fmt in ((1, "PoseTrack17-format"), (2, "PoseTrack18-format")) for boxes in ("detected boxes", "ground-truth boxes")
              for what, key in (("single-frame baseline", "single-frame"), ("CDPose", "CDPose"))]]
    data = TABLES / "benchmarks" / "benchmark_data.csv"
    if data.exists():                # the data pipeline per CPU core (93_benchmark_data)
        d, dlab = pd.read_csv(data).set_index("frames"), _label(data)
        for name in d.index[d.index.str.startswith("1920x1080, photographic")]:
            r = d.loc[name]
            rows.append((f"Data pipeline, {name} ({r['persons per labelled frame']:.1f} persons per labelled frame): clips/s per CPU core",
                         f"{r['clips/s per core, frames']:.1f} (each clip alone: {r['clips/s per core, each clip alone']:.1f}); "
                         f"{r['decode per frame (ms)']:.1f} ms to decode a frame", f"{dlab['machine'].split(' (')[0]}, one core, commit {dlab['commit']}"))
    for name, measure in (("ViT-B", "training, vit_base 256x192, T=2"), ("HRNet-W48", "training, hrnet_w48 256x192, T=2")):
        g = gpu.loc[measure]
        rows.append((f"GPU check: a paper-size {name} training step (batch 32, bf16)",
                     f"{g['median step (s)']:.3f} s, {g['clips/s']:.0f} clips/s, {g['peak memory per GPU (GiB)']:.1f} GiB",
                     f"{glab['device']}, commit {glab['commit']}"))
    lines = ["## Committed results", "",
             "Read from the committed records by `tools/make_readme.py`: [`paper_tables/`](paper_tables/README.md) and "
             "[`paper_tables/benchmarks/`](paper_tables/benchmarks/README.md) have every table with its label.", "",
             "| what | result | where |", "|---|---|---|", *[f"| {a} | {b} | {c} |" for a, b, c in rows], "",
             "The rows on detected boxes are below those on ground-truth boxes: "
             "[`research/detections/`](research/detections/README.md) takes SynthPoseTrack's generated detection file "
             "apart and measures what each part costs."]
    return "\n".join(lines) + "\n"

def render() -> str:
    "The README text: the markdown cells of index.ipynb, then the committed results."
    nb = nbformat.read(ROOT / "nbs" / "index.ipynb", as_version=4)
    nb.cells = [c for c in nb.cells if c.cell_type == "markdown"]
    body, _ = MarkdownExporter().from_notebook_node(nb)
    body = body.replace("> Continuity-Driven", "Continuity-Driven", 1).strip() + "\n\n" + results()
    return "<!-- generated from nbs/index.ipynb by tools/make_readme.py: do not edit -->\n" + body

if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        sys.exit(0 if (ROOT / "README.md").read_text() == text else 1)
    (ROOT / "README.md").write_text(text)
