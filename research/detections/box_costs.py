"""What costs the smoke tables' detected-box rows their mAP: SynthPoseTrack's generated detection file taken apart.

Tables 1-3 evaluate every model on ground-truth boxes and on a generated detection file (`cdpose.synthetic.
write_synthetic_detections`: each person's box jittered by up to 6% of its size, a lower-scored duplicate of each, one
low-scoring false box per frame), under the field's protocol (`cdpose.predict.DetectionProtocol`). This script evaluates
the trained models of a `cdpose tables` run on the PoseTrack18-layout validation split with each part alone, and with
the protocol's steps switched off, and writes research/detections/tables/box_costs.{md,csv}.
Run from the repository root after `cdpose tables --profile smoke` (it reuses that run's models and data):
  python -m research.detections.box_costs --runs runs/tables/smoke_seed0
"""
import argparse, json, time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from cdpose.checkpoints import load_trained
from cdpose.dataset import load_detections, load_posetrack
from cdpose.predict import evaluate_model
from cdpose.profiles import profile
from cdpose.synthetic import write_synthetic_detections

# name -> (write_synthetic_detections keywords, or None for ground-truth boxes; DetectionProtocol changes)
VARIANTS = {
    "ground-truth boxes": (None, {}),
    "ground-truth boxes read as detections (jitter 0)": (dict(jitter=0.0, false_boxes=False, duplicates=False), {}),
    "jitter 2%": (dict(jitter=0.02, false_boxes=False, duplicates=False), {}),
    "jitter 6% (the tables' jitter)": (dict(false_boxes=False, duplicates=False), {}),
    "jitter 6% + a false box per frame": (dict(duplicates=False), {}),
    "jitter 6% + a duplicate per person": (dict(false_boxes=False), {}),
    "the tables' file (all three)": ({}, {}),
    "the tables' file, no OKS-NMS": ({}, dict(oks_nms=1.01)),
    "the tables' file, no box threshold": ({}, dict(box_threshold=0.0)),
}

def evaluate(run: Path, seeds: list[int], work: Path, device: str, variants: list[str] | None = None,
             models: dict | None = None) -> pd.DataFrame:
    """mAP of each seed's full model and single-frame baseline (the run's, or `models`: seed -> {"full": checkpoint,
    "baseline": checkpoint}) under every variant (or those named)."""
    trained, cfg = json.loads((run / "models.json").read_text()), profile("smoke")
    site = json.loads((run / "data.json").read_text())
    val = load_posetrack(site["releases"]["18"]["root"], "val", progress=False)
    reps = models or {m["seed"]: m for m in trained["replicates"]["18"]}
    work.mkdir(parents=True, exist_ok=True)
    detection_seed = int(run.name.rsplit("_seed", 1)[1])      # `cdpose tables --seed S` writes <profile>_seedS
    again = write_synthetic_detections(val.videos, work / "again.json", detection_seed)
    if again.read_bytes() != Path(site["releases"]["18"]["detected_boxes"]).read_bytes():
        raise SystemExit(f"{again}: not the tables' detection file when drawn again; its parts would not be its own")
    nets = {(seed, model): load_trained(reps[seed][model], device)[0]      # each checkpoint loaded once
            for seed in seeds for model in ("full", "baseline")}
    rows = []
    for name, (kw, proto) in VARIANTS.items():
        if variants is not None and name not in variants: continue
        dets = None
        if kw == {}: dets = load_detections(site["releases"]["18"]["detected_boxes"], val.videos)   # the tables' own
        elif kw is not None:  # its parts, drawn with the same seed (the file of seed 0's run is drawn with seed 0)
            path = write_synthetic_detections(val.videos, work / f"{len(rows)}.json", detection_seed, **kw)
            dets = load_detections(path, val.videos)
        for seed in seeds:
            for model in ("full", "baseline"):
                t = time.time()
                s = evaluate_model(nets[seed, model], val.videos, cfg.clip, device, cfg.flip_test, dets,
                                   protocol=replace(cfg.protocol, **proto)).summary
                rows.append({"boxes": name, "seed": seed, "model": model, "mAP": s["Mean"], "s": time.time() - t})
                print(rows[-1], flush=True)
    return pd.DataFrame(rows)

def table(df: pd.DataFrame) -> pd.DataFrame:
    "One row per variant: each model's mean over seeds, per seed, and its change from ground-truth boxes."
    out = []
    for name in VARIANTS:
        row = {"boxes": name}
        for model, label in (("full", "CDPose (full)"), ("baseline", "single-frame baseline")):
            d = df[(df.boxes == name) & (df.model == model)].sort_values("seed")
            gt = df[(df.boxes == "ground-truth boxes") & (df.model == model)].sort_values("seed")
            row[f"{label} mAP"] = round(d.mAP.mean(), 2)
            row[f"{label} per seed"] = " / ".join(f"{v:.2f}" for v in d.mAP)
            row[f"{label} change"] = round(d.mAP.mean() - gt.mAP.mean(), 2)
        out.append(row)
    return pd.DataFrame(out)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", required=True, help="a `cdpose tables` run folder (models.json, data.json)")
    p.add_argument("--seeds", default="0,1,2"); p.add_argument("--device", default="cpu")
    p.add_argument("--out", default="research/detections/tables")
    a = p.parse_args()
    from cdpose.results import run_label, write_table
    run, work = Path(a.runs).resolve(), Path(a.out) / "work"
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    df = evaluate(run, [int(s) for s in a.seeds.split(",")], work, a.device)
    for f in work.glob("*.json"): f.unlink()
    work.rmdir()
    df.to_csv(Path(a.out) / "box_costs_runs.csv", index=False)
    cfg = profile("smoke")
    label = run_label("smoke (the tables' trained models)",
                      "SynthPoseTrack (synthetic; not PoseTrack), PoseTrack18-layout "
                      "validation split", a.seeds.replace(",", ", "), a.device, config=cfg)
    write_table(table(df), "box_costs", a.out, "What the smoke tables' detected boxes cost, part by part", label,
                f"Each model evaluated {len(df) // (2 * len(VARIANTS))} time(s) per variant "
                f"({time.time() - t0:.0f} s in all); mAP as in Tables 1-3 (the official poseval's per-joint AP, "
                "final checkpoint, flip test off); change: from the same model's mAP on ground-truth boxes. Every "
                "variant but the protocol rows uses the protocol of the label. Each seed's evaluations: "
                "box_costs_runs.csv.")

if __name__ == "__main__":
    main()
