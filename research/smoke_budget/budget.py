"""How long must the smoke profile train? Stage 1's and stage 2's lengths against the models' mAP (README.md beside).

Each variant retrains the seeds of a `cdpose tables --profile smoke` run with other epochs and nothing else changed
(README.md gives the `cdpose train` commands); this script checks that, evaluates every model on the PoseTrack18-layout
validation split (ground-truth boxes, fp32, the profile's flip setting) and writes tables/budget.{md,csv}:
  python -m research.smoke_budget.budget --runs runs/tables/smoke_seed0 --work W1 W2 ...
W holds the runs `stage1_seedS` (its own stage 1; else it used the tables' stage 1 of seed S) and `full_seedS`.
"""
import argparse, functools, json
from pathlib import Path

import pandas as pd

from cdpose.checkpoints import config_differences, load_trained
from cdpose.dataset import load_posetrack
from cdpose.predict import evaluate_model
from cdpose.profiles import profile
from cdpose.results import final_result

ALLOWED = {"stage1.epochs", "stage2.epochs", "stage1_checkpoint"}     # what a variant may change

def tables_run(runs: Path, stage: str, seed: int) -> Path:
    return runs / "pt18" / (stage + ("" if seed == 0 else f"_seed{seed}"))

def check_variant(run: Path, like: Path) -> dict:
    "The run's configuration, after checking that it is `like`'s (a tables run) but for the epochs; else exit."
    mine = json.loads((run / "manifest.json").read_text())
    theirs = json.loads((like / "spec.json").read_text())["config"]
    diff = {line.split(":", 1)[0] for line in config_differences(theirs, mine["config"])} - ALLOWED
    if diff or mine["status"] != "finished":
        raise SystemExit(f"{run}: not a finished variant of {like} (differs in {sorted(diff)})")
    return mine

def evaluate(runs: Path, works: list[Path]) -> pd.DataFrame:
    "One row per variant and seed: the epochs, the baseline's and the full model's mAP, and the training wall times."
    site, cfg = json.loads((runs / "data.json").read_text()), profile("smoke")
    root = site["releases"]["18"]["root"]
    val = load_posetrack(root, "val", progress=False).videos
    seeds = [m["seed"] for m in json.loads((runs / "models.json").read_text())["replicates"]["18"]]
    @functools.cache                  # the tables' stage 1 serves two variants: evaluated once
    def mAP(ckpt: Path) -> float:
        r = final_result(ckpt, root, "", cfg.flip_test) or \
            evaluate_model(load_trained(ckpt, "cpu")[0], val, cfg.clip, "cpu", cfg.flip_test).summary
        return round(r["Mean"], 2)
    rows = []
    for work in [None, *works]:
        for s in seeds:
            full = tables_run(runs, "full", s) if work is None else work / f"full_seed{s}"
            man = json.loads((full / "manifest.json").read_text()) if work is None else \
                check_variant(full, tables_run(runs, "full", s))
            st1 = tables_run(runs, "stage1", s)
            if work is not None and (work / f"stage1_seed{s}").exists():
                st1 = work / f"stage1_seed{s}"
                check_variant(st1, tables_run(runs, "stage1", s))
            st1_man = json.loads((st1 / "manifest.json").read_text())
            rows.append({"variant": "the tables' runs" if work is None else work.name, "seed": s,
                         "stage 1 epochs": st1_man["config"]["stage1"]["epochs"],
                         "stage 2 epochs": man["config"]["stage2"]["epochs"],
                         "baseline mAP": mAP(st1 / "checkpoints" / "stage1.pt"),
                         "full mAP": mAP(full / "checkpoints" / "final.pt"),
                         "stage 1 s": st1_man["wall_time_s"], "stage 2 s": man["wall_time_s"]})
            print(rows[-1], flush=True)
    return pd.DataFrame(rows)

def table(df: pd.DataFrame) -> pd.DataFrame:
    "One row per variant: each model's mean mAP over the seeds, per seed, and the spread; the training time per seed."
    out = []
    for name, g in df.groupby("variant", sort=False):
        row = {"variant": name, **{k: g[k].iloc[0] for k in ("stage 1 epochs", "stage 2 epochs")}}
        for m in ("baseline", "full"):
            v = g[f"{m} mAP"]
            row |= {f"{m} mAP": round(v.mean(), 2), f"{m} per seed": " / ".join(f"{x:.2f}" for x in v),
                    f"{m} spread": round(v.max() - v.min(), 2)}
        row["training s per seed (stage 1 + 2)"] = round((g["stage 1 s"] + g["stage 2 s"]).mean())
        out.append(row)
    return pd.DataFrame(out)

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", required=True); p.add_argument("--work", nargs="+", required=True)
    p.add_argument("--out", default="research/smoke_budget/tables")
    a = p.parse_args()
    from cdpose.results import run_label, write_table
    runs, out = Path(a.runs).resolve(), Path(a.out)
    df = evaluate(runs, [Path(w).resolve() for w in a.work])
    out.mkdir(parents=True, exist_ok=True)
    df.to_csv(out / "budget_runs.csv", index=False)
    label = run_label("smoke (the tables' runs, and variants of their epochs)",
                      "SynthPoseTrack (synthetic; not PoseTrack), PoseTrack18-layout validation split",
                      ", ".join(map(str, sorted(df.seed.unique()))), "cpu")
    write_table(table(df), "budget", out, "How long must the smoke profile train?", label,
                "Each variant retrains the tables' seeds with other epochs, nothing else changed (checked against each "
                "run's spec.json); a variant without its own stage 1 starts stage 2 from the tables' stage 1 of the "
                "same seed. mAP on ground-truth boxes, fp32, no flip test; the baseline is stage 1. Training wall "
                "times with two runs side by side on this project's 2 cores, one thread each. Each seed: "
                "budget_runs.csv.")

if __name__ == "__main__":
    main()
