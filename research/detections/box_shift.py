"""Does a box-shift augmentation close the gap on detected boxes? (research/detections/README.md)

The smoke tables' models lose 13.56 mAP (full) and 9.79 (baseline) when their boxes are jittered by up to 6%
(tables/box_costs.md): their training crops are always centred on the box. This script retrains the tables' seed-S runs
(stage 1, the single-frame baseline, then the full model from it) with one change, `clip.box_shift` (the training crop
moved by up to that fraction of the enlarged box, per axis), and evaluates them as box_costs.py does.
  python -m research.detections.box_shift train --runs runs/tables/smoke_seed0 --seed 0 --shift F --work W  (15 min)
  python -m research.detections.box_shift table --runs runs/tables/smoke_seed0 --work W   (tables/box_shift_F.md)
Seeds 0 and 1 trained side by side on this project's 2 cores (two `train` commands, one --seed each, one thread each),
for F = 0.1 (W = runs/box_shift) and F = 0.05 (W = runs/box_shift_0.05).
"""
import argparse, json, time
from dataclasses import replace
from pathlib import Path

import pandas as pd

from cdpose.profiles import config_from_dict
from research.detections.box_costs import VARIANTS, evaluate

SHIFT = 0.1
BOXES = ["ground-truth boxes", "jitter 6% (the tables' jitter)", "the tables' file (all three)"]

def spec_of(runs: Path, name: str) -> dict:
    "The spec the tables trained run `name` (pt18/stage1, pt18/full, ... with _seedS) from."
    return json.loads((runs / "pt18" / name / "spec.json").read_text())

def train(a):
    "The seed's stage 1 and full model, as the tables trained them, with the box shift on."
    from cdpose.training import Trainer
    runs, work, tail = Path(a.runs).resolve(), Path(a.work).resolve(), "" if a.seed == 0 else f"_seed{a.seed}"
    stage1 = work / f"stage1{tail}"
    for name, out in ((f"stage1{tail}", stage1), (f"full{tail}", work / f"full{tail}")):
        spec = spec_of(runs, name)
        cfg = config_from_dict(spec["config"])
        cfg = replace(cfg, clip=replace(cfg.clip, box_shift=a.shift))
        if cfg.stage1_checkpoint: cfg = replace(cfg, stage1_checkpoint=str(stage1 / "checkpoints" / "stage1.pt"))
        t = time.time()
        Trainer(cfg, spec["data"], out, spec["device"], progress=False, site=spec["site"]).run()
        print(f"{out}: {time.time() - t:.0f} s", flush=True)

def shift_table(before: pd.DataFrame, ours: pd.DataFrame, shift: float) -> pd.DataFrame:
    """Per model and kind of box: the tables' models (`before`, box_costs_runs.csv) and the retrained ones (`ours`) over
    the same seeds, each seed's mAP, and the change of the mean."""
    rows, seeds = [], sorted(ours.seed.unique())
    for model, label in (("full", "CDPose (full)"), ("baseline", "single-frame baseline")):
        for boxes in BOXES:
            b = before[(before.model == model) & (before.boxes == boxes) & before.seed.isin(seeds)].sort_values("seed")
            o = ours[(ours.model == model) & (ours.boxes == boxes)].sort_values("seed")
            rows.append({"model": label, "boxes": boxes, "tables' models mAP": round(b.mAP.mean(), 2),
                         "tables' models per seed": " / ".join(f"{v:.2f}" for v in b.mAP),
                         f"box shift {shift:g} mAP": round(o.mAP.mean(), 2),
                         f"box shift {shift:g} per seed": " / ".join(f"{v:.2f}" for v in o.mAP),
                         "change": round(o.mAP.mean() - b.mAP.mean(), 2)})
    return pd.DataFrame(rows)

def table(a):
    "Each model with and without the shift, on ground-truth boxes, jittered ones and the tables' file."
    from cdpose.results import run_label, write_table
    from cdpose.profiles import profile
    runs, work = Path(a.runs).resolve(), Path(a.work).resolve()
    seeds = sorted(int(p.name.rsplit("_seed", 1)[1]) if "_seed" in p.name else 0 for p in work.glob("full*"))
    folder = lambda stage, s: work / (stage + ("" if s == 0 else f"_seed{s}"))
    shifted = {s: {"full": folder("full", s) / "checkpoints" / "final.pt",
                   "baseline": folder("stage1", s) / "checkpoints" / "stage1.pt"} for s in seeds}
    shift = json.loads((work / "full" / "manifest.json").read_text())["config"]["clip"]["box_shift"]
    t0 = time.time()
    ours = evaluate(runs, seeds, work / "boxes", "cpu", variants=BOXES, models=shifted)
    ours["s"] = ours["s"].round(1)
    name = f"box_shift_{shift:g}"
    ours.to_csv(Path(a.out) / f"{name}_runs.csv", index=False)
    smoke = profile("smoke")
    label = run_label(f"smoke, clip.box_shift={shift:g} (the tables' runs of these seeds otherwise)",
                      "SynthPoseTrack (synthetic; not PoseTrack), PoseTrack18-layout validation split",
                      ", ".join(map(str, seeds)), "cpu",
                      config=replace(smoke, clip=replace(smoke.clip, box_shift=shift)))
    wall = {folder(stage, s).name: json.loads((folder(stage, s) / "manifest.json").read_text())["wall_time_s"]
            for s in seeds for stage in ("stage1", "full")}
    write_table(shift_table(pd.read_csv(Path(a.out) / "box_costs_runs.csv"), ours, shift), name, a.out,
                "Does a box-shift augmentation close the gap on detected boxes?", label,
                "Stage 1 (the single-frame baseline) and the full model of each seed retrained as the tables trained "
                "them "
                f"(their spec.json), with the training crop moved by up to {shift:g} of the enlarged box per axis; "
                f"training wall times (s, one thread each, two seeds side by side): {wall}. Evaluated as box_costs.md "
                f"({time.time() - t0:.0f} s): the tables' models' columns are that table's evaluations of the same "
                "seeds. "
                f"Each evaluation: {name}_runs.csv.")

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("job", choices=["train", "table"])
    p.add_argument("--runs", required=True); p.add_argument("--work", required=True)
    p.add_argument("--seed", type=int, default=0); p.add_argument("--shift", type=float, default=SHIFT)
    p.add_argument("--out", default="research/detections/tables")
    a = p.parse_args()
    {"train": train, "table": table}[a.job](a)

if __name__ == "__main__":
    main()
