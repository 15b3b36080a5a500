"""L_s variants trained as Table 6 rows and read by the invariance probe (issue 15: can L_s make Z position-invariant?).
Run from the repository root as `python -m research.invariance.ls_variants JOB ...`; importing the package registers the study's
options (research/invariance/modules.py, terms.py). Tables and run records live in research/invariance/tables/. Records made
before the core's registries name the study's options as the LossConfig / SemanticConfig fields they were then (terms.py maps them).
Each variant is the smoke profile's full-model row: stage 2 from a given stage-1 checkpoint, on SynthPoseTrack, then
`cdpose.invariance.invariance_probe` on 400 validation keyframe crops. The committed table (research/invariance/tables/invariance_ls_variants.md,
its runs' records in invariance_ls_variants_runs.json) came from these steps on one NVIDIA H200, run by an earlier copy of this script:
  python -m research.invariance.ls_variants train --stage1 RUN/pt18/stage1/checkpoints/stage1.pt --device cuda --work W   (about 4 minutes there)
  python -m research.invariance.ls_variants table --work W --out paper_tables --device-name "NVIDIA H200"   (W/variants.json: the runs' records)
The CPU tables (invariance_s_variants, table6_invariant_design) come from `train --variants SET` on this project's 2-core machine;
table6_invariant_design_long from `train --variants table6_long` then `table6_long_strong` into one W on one H200 (about 90 s a row),
then `table --variants table6_long --device-name "NVIDIA H200" --machine HOST`; table6_invariant_design_from_stage1 from
`train --variants table6_from_stage1` on this CPU (both stages from scratch, 18-25 minutes a row), then `table --variants table6_from_stage1`.
invariance_canonical from `train --variants canonical_a` and `canonical_b` side by side on this CPU (two --work folders, 8 minutes a
row; their records merged in research/invariance/tables/invariance_canonical_runs.json), then `table --variants canonical`.
invariance_warm_es and table6_warm_design: `es_fit --target box --steps 12000 --graft G/pt18/stage1/checkpoints/stage1.pt` (and
--stage1 seed 1's stage 1 with --graft G/pt18/stage1_seed1/...; 5 minutes each), then `train --variants warm_a`, `warm_b`,
`warm_invariant_a/b`, `table6_warm_a/b`, `table6_warm_strong_a/b` two at a time (--stage1 the graft for rows with S, the tables'
stage 1 for Z only; 17 minutes a row), then `table --variants warm --reference research/invariance/tables/invariance_frame_anchor_long_runs.json`
and `table --variants table6_warm`; invariance_s_identity from `s_identity --run RUN...` on those runs.
"""
import argparse, json, time
from pathlib import Path

import torch

from cdpose.semantic import IDENTITY_AFFINE
import research.invariance  # noqa: F401  (registers the study's options)

CONTRASTIVE = ["loss.lambda_s=0", "loss.terms.s_contrastive=0.1", "loss.ls_translation=0.15"]   # L_s replaced by its contrastive form (terms.py)

VARIANTS = {   # name -> (--set overrides of the smoke profile on top of seed 0 and the given stage 1, weight of the S-equivariance term)
    "paper L_s (reference), 0.4 epochs": (["stage2.epochs=0.4"], 0.0),
    "contrastive L_s, lambda_s 0.01, 0.4 epochs": (["stage2.epochs=0.4", CONTRASTIVE[0], "loss.terms.s_contrastive=0.01", CONTRASTIVE[2]], 0.0),
    "contrastive L_s, lambda_s 0.1, 0.4 epochs": (["stage2.epochs=0.4", *CONTRASTIVE], 0.0),
    "contrastive L_s, lambda_s 1, 0.4 epochs": (["stage2.epochs=0.4", CONTRASTIVE[0], "loss.terms.s_contrastive=1.0", CONTRASTIVE[2]], 0.0),
    "contrastive L_s without translation, lambda_s 1, 0.4 epochs": (["stage2.epochs=0.4", CONTRASTIVE[0], "loss.terms.s_contrastive=1.0"], 0.0),
    "paper L_s (reference), 2 epochs": (["stage2.epochs=2"], 0.0),
    "contrastive L_s, lambda_s 0.1, 2 epochs": (["stage2.epochs=2", *CONTRASTIVE], 0.0),
    "contrastive L_s, lambda_s 1, 2 epochs": (["stage2.epochs=2", CONTRASTIVE[0], "loss.terms.s_contrastive=1.0", CONTRASTIVE[2]], 0.0),
    "S-equivariance 10, paper L_s, 0.4 epochs": (["stage2.epochs=0.4"], 10.0),
    "S-equivariance 10, contrastive L_s 0.1, 0.4 epochs": (["stage2.epochs=0.4", *CONTRASTIVE], 10.0),
    "S-equivariance 10, contrastive L_s 0.1, 2 epochs": (["stage2.epochs=2", *CONTRASTIVE], 10.0)}

MOVED = ["loss.terms.hs=1.0", "loss.ls_translation=0.15"]   # L_h on the transformed copy too (term hs), its transforms translating

ANCHORED = {   # trained on this machine's CPU: the transformed copy's heatmaps supervised, so a Z held to Z' leaves the transform to S
    "L_h on the moved copy, paper L_s 1e-3, 0.4 epochs": (["stage2.epochs=0.4", *MOVED], 0.0),
    "L_h on the moved copy, paper L_s 0.1, 0.4 epochs": (["stage2.epochs=0.4", *MOVED, "loss.lambda_s=0.1"], 0.0),
    "L_h on the moved copy, paper L_s 1, 0.4 epochs": (["stage2.epochs=0.4", *MOVED, "loss.lambda_s=1.0"], 0.0),
    "L_h on the moved copy, contrastive L_s 0.1, 0.4 epochs": (["stage2.epochs=0.4", *MOVED, *CONTRASTIVE[:2]], 0.0)}

CENTROIDS = "model.semantic.transform_pooling=centroids"    # E_S reads where its attention maps sit (SemanticConfig.transform_pooling)

CENTROID = {   # trained on this machine's CPU: an E_S that can read position, with and without the moved copy's L_h
    "E_S centroids, paper L_s 1e-3, 0.4 epochs": (["stage2.epochs=0.4", CENTROIDS], 0.0),
    "E_S centroids, L_h on the moved copy, paper L_s 1e-3, 0.4 epochs": (["stage2.epochs=0.4", CENTROIDS, *MOVED], 0.0),
    "E_S centroids, L_h on the moved copy, paper L_s 0.1, 0.4 epochs": (["stage2.epochs=0.4", CENTROIDS, *MOVED, "loss.lambda_s=0.1"], 0.0),
    "E_S centroids, L_h on the moved copy, contrastive L_s 0.1, 0.4 epochs": (["stage2.epochs=0.4", CENTROIDS, *MOVED, *CONTRASTIVE[:2]], 0.0),
    "E_S centroids, L_h on the moved copy, paper L_s 1, 0.4 epochs": (["stage2.epochs=0.4", CENTROIDS, *MOVED, "loss.lambda_s=1.0"], 0.0)}

SWAP = ["loss.terms.hs_swapped=1.0", "loss.ls_translation=0.15"]   # the moved copy's heatmaps decoded from the original's Z and the copy's S

SWAPPED = {   # trained on this machine's CPU: only S' can place the moved copy's heatmaps
    "A(D(Z), S') on the moved copy, paper L_s 1e-3, 0.4 epochs": (["stage2.epochs=0.4", *SWAP], 0.0),
    "A(D(Z), S') on the moved copy, E_S centroids, paper L_s 1e-3, 0.4 epochs": (["stage2.epochs=0.4", CENTROIDS, *SWAP], 0.0),
    "A(D(Z), S') on the moved copy, Z only, 0.4 epochs": (["stage2.epochs=0.4", *SWAP, "model.semantic.use_S=False"], 0.0)}

SWAPPED_LONG = {   # the same at the full model's budget: 0.4 epochs are 57 steps, too few for E_S to learn a regression
    "A(D(Z), S') on the moved copy, paper L_s 1e-3, 2 epochs": (["stage2.epochs=2", *SWAP], 0.0),
    "A(D(Z), S') on the moved copy, E_S centroids, paper L_s 1e-3, 2 epochs": (["stage2.epochs=2", CENTROIDS, *SWAP], 0.0)}

REL = ["loss.lambda_s=0", "loss.terms.s_relative=0.1"]   # L_s relative to the distance between people
STHETA = "loss.terms.stheta=0.1"

SWAPPED_PLUS = {   # 2 epochs: A(D(Z), S') with a scale-blind L_s that can push Z to invariance, and S' held to sg(S) θ
    "A(D(Z), S'), relative L_s 0.1, 2 epochs": (["stage2.epochs=2", *SWAP, *REL], 0.0),
    "A(D(Z), S'), S' = sg(S) θ 0.1, 2 epochs": (["stage2.epochs=2", *SWAP, STHETA], 0.0),
    "A(D(Z), S'), S' = sg(S) θ 0.1, relative L_s 0.1, 2 epochs": (["stage2.epochs=2", *SWAP, STHETA, *REL], 0.0)}

SWAPPED_CENTROIDS = {   # 2 epochs: the same with the E_S that reads where its attention sits
    "A(D(Z), S'), S' = sg(S) θ 0.1, E_S centroids, 2 epochs": (["stage2.epochs=2", *SWAP, STHETA, CENTROIDS], 0.0),
    "A(D(Z), S'), S' = sg(S) θ 0.1, E_S centroids, relative L_s 0.1, 2 epochs": (["stage2.epochs=2", *SWAP, STHETA, CENTROIDS, *REL], 0.0)}

REL_FIXED = ["loss.lambda_s=0", "loss.terms.s_relative_fixed=0.1"]   # the relative L_s training E_Z alone, on fixed F

SWAPPED_FIXED = {   # 2 epochs: L_s on E_Z alone (its features detached), so that making Z invariant cannot erase the position from F
    "A(D(Z), S'), S' = sg(S) θ 0.1, relative L_s 0.1 on fixed F, 2 epochs": (["stage2.epochs=2", *SWAP, STHETA, *REL_FIXED], 0.0),
    "A(D(Z), S'), relative L_s 0.1 on fixed F, 2 epochs": (["stage2.epochs=2", *SWAP, *REL_FIXED], 0.0)}

DESIGN = [*SWAP, STHETA, *REL_FIXED]   # the design the CPU runs above point to (07a_invariance)

TABLE6_DESIGN = {   # Table 6's Z / S rows with that design, at the full model's 2 epochs (S does not learn in 57 steps), seeds 0 and 1
    f"design, {row}, seed {seed}": (["stage2.epochs=2", *DESIGN, f"seed={seed}", *(["model.semantic.use_S=False"] if row == "Z only" else [])], 0.0)
    for seed in (0, 1) for row in ("Z and S", "Z only")} | {   # and the paper's "Z only" at the same budget ("Z and S" is the full model)
    f"paper's, Z only, seed {seed}": (["stage2.epochs=2", f"seed={seed}", "model.semantic.use_S=False"], 0.0) for seed in (0, 1)}

LONG_EPOCHS = 6
TABLE6_LONG = {   # the same four rows, seed 0, at 6 epochs of stage 2 (one NVIDIA H200, about 90 s a row: this CPU would take 15-20 minutes)
    name: ([x.replace("stage2.epochs=2", f"stage2.epochs={LONG_EPOCHS}") for x in sets], eq)
    for name, (sets, eq) in TABLE6_DESIGN.items() if name.endswith("seed 0")} | {
    "paper's, Z and S, seed 0": ([f"stage2.epochs={LONG_EPOCHS}", "seed=0"], 0.0)}

TABLE6_LONG_STRONG = {   # the design's two rows at 6 epochs with the relative L_s at lambda_s 1 (10x): more pressure on Z, now that S learns
    name.replace("design", "design, lambda_s 1"): ([x.replace("s_relative_fixed=0.1", "s_relative_fixed=1.0") for x in sets], eq)
    for name, (sets, eq) in TABLE6_LONG.items() if name.startswith("design")}

TABLE6_FROM_STAGE1 = {   # the design's two rows with the design on from stage 1 (stage1_ls): 20 single-frame epochs for S to learn, seed 0
    f"design from stage 1, {row}, seed 0": (["stage2.epochs=2", *DESIGN, "seed=0", "stage1_ls=True", "stage1_checkpoint=",
                                             *(["model.semantic.use_S=False"] if row == "Z only" else [])], 0.0)
    for row in ("Z and S", "Z only")}

CANON = ["stage2.epochs=2", "model.semantic.space=canonical", "loss.ls_translation=0.15", "threads=1"]

CANONICAL = {   # trained on this machine's CPU, two at a time on one thread each (as the smoke tables): E_Z reads F moved back by S^-1
    "canonical F, paper L_s 1e-3, 2 epochs": (CANON, 0.0),
    "canonical F, paper L_s 0.1, 2 epochs": ([*CANON, "loss.lambda_s=0.1"], 0.0),
    "canonical F, relative L_s 0.1 on fixed F, 2 epochs": ([*CANON, *REL_FIXED], 0.0),
    "canonical F, the design (07a), 2 epochs": ([*CANON, *DESIGN], 0.0)}

FRAME = ["stage2.epochs=2", "loss.terms.frame_pose=1.0", "loss.ls_translation=0.15", "threads=1"]

FRAMED = {   # trained on this machine's CPU, two at a time on one thread each: S anchored to the pose's frame (term frame_pose)
    "S anchored to the pose frame 1, paper L_s 1e-3, 2 epochs": (FRAME, 0.0),
    "S anchored to the pose frame 1, A(D(Z), S'), relative L_s 0.1 on fixed F, 2 epochs": ([*FRAME, *SWAP, *REL_FIXED], 0.0)}

FRAMED_CENTROIDS = {   # the same with the E_S that reads where its attention sits: S above did not learn the translation (R² ≈ 0)
    "S anchored to the pose frame 1, E_S centroids, paper L_s 1e-3, 2 epochs": ([*FRAME, CENTROIDS], 0.0),
    "S anchored to the pose's position 1, E_S centroids, paper L_s 1e-3, 2 epochs": ([*FRAME[:1], "loss.terms.frame_pose_position=1.0", *FRAME[2:], CENTROIDS], 0.0)}

POSITIONS = "model.semantic.transform_pooling=positions"   # E_S pools its tokens by learned maps over positions, as E_Z does

FRAMED_POSITIONS = {   # the anchor with an E_S that can weigh tokens by where they sit: centroids read only part of the translation
    "S anchored to the pose frame 1, E_S position pooling, paper L_s 1e-3, 2 epochs": ([*FRAME, POSITIONS], 0.0),
    "S anchored to the pose frame 0.1, E_S position pooling, paper L_s 1e-3, 2 epochs": ([*FRAME[:1], "loss.terms.frame_pose=0.1", *FRAME[2:], POSITIONS], 0.0)}

BOX = ["stage2.epochs=2", "loss.terms.frame_box=1.0", "loss.ls_translation=0.15", "threads=1"]

BOXED = {   # S anchored to the box's frame (the keyframe's crop_frame; the copy's, moved by θ): es_fit shows E_S can learn it, unlike pose_frame
    "S anchored to the box frame 1, paper L_s 1e-3, 2 epochs": (BOX, 0.0),
    "S anchored to the box frame 1, A(D(Z), S'), relative L_s 0.1 on fixed F, 2 epochs": ([*BOX, *SWAP, *REL_FIXED], 0.0)}

BOXED_LONG = {   # 6 epochs (858 steps) on this CPU: es_fit's E_S learns the translation only past 300 steps; the paper's losses beside it
    "S anchored to the box frame 1, paper L_s 1e-3, 6 epochs": ([x.replace("stage2.epochs=2", "stage2.epochs=6") for x in BOX], 0.0),
    "paper's losses (reference), 6 epochs": (["stage2.epochs=6", "threads=1"], 0.0)}

WARM = [x.replace("stage2.epochs=2", "stage2.epochs=6") for x in BOX]

WARM_ES = {   # 6 epochs from a stage 1 whose E_S es_fit fitted to the box frame (12000 steps on frozen features): S reads the move from the start
    "warm E_S, box frame 1, canonical F, paper L_s 1e-3, 6 epochs": ([*WARM, "model.semantic.space=canonical"], 0.0),
    "warm E_S, box frame 1, paper L_s 1e-3, 6 epochs": (WARM, 0.0)}

WARM_INVARIANT = {   # S now reads the move (warm_a/b): can a relative L_s on E_Z alone make Z invariant without the mAP falling? Beside its Z only row
    "warm E_S, box frame 1, relative L_s 0.1 on fixed F, 6 epochs": ([*WARM, *REL_FIXED], 0.0),
    "Z only, relative L_s 0.1 on fixed F, 6 epochs": (["stage2.epochs=6", "loss.ls_translation=0.15", "threads=1", *REL_FIXED, "model.semantic.use_S=False"], 0.0)}

TABLE6_WARM = {   # Table 6's Z / S rows with the warm design, seeds 0 and 1, each from its seed's stage 1 (Z and S: with es_fit's E_S grafted in)
    f"warm design, {row}, seed {seed}": (([*WARM, *REL_FIXED] if row == "Z and S" else list(WARM_INVARIANT.values())[1][0]) + [f"seed={seed}"], 0.0)
    for seed in (0, 1) for row in ("Z and S", "Z only")}

TABLE6_WARM_STRONG = {   # the same two rows, seed 0, with 10 times the weight on the relative L_s: does Z only collapse when Z must be invariant?
    name.replace("warm design", "warm design, lambda_s 1"): ([x.replace("s_relative_fixed=0.1", "s_relative_fixed=1.0") for x in sets], eq)
    for name, (sets, eq) in TABLE6_WARM.items() if name.endswith("seed 0")}

VARIANT_SETS = {"gpu": VARIANTS, "anchored": ANCHORED, "centroids": CENTROID, "swapped": SWAPPED,
                "swapped_long": SWAPPED_LONG, "swapped_plus": SWAPPED_PLUS, "swapped_centroids": SWAPPED_CENTROIDS,
                "swapped_fixed": SWAPPED_FIXED, "table6_design": TABLE6_DESIGN, "table6_long": TABLE6_LONG, "table6_from_stage1": TABLE6_FROM_STAGE1,
                "table6_long_strong": TABLE6_LONG_STRONG, "canonical": CANONICAL,
                "canonical_a": dict(list(CANONICAL.items())[0::2]), "canonical_b": dict(list(CANONICAL.items())[1::2]),
                "frame_a": dict(list(FRAMED.items())[0::2]), "frame_b": dict(list(FRAMED.items())[1::2]),
                "frame_centroids_a": dict(list(FRAMED_CENTROIDS.items())[0::2]), "frame_centroids_b": dict(list(FRAMED_CENTROIDS.items())[1::2]),
                "frame_positions_a": dict(list(FRAMED_POSITIONS.items())[0::2]), "frame_positions_b": dict(list(FRAMED_POSITIONS.items())[1::2]),
                "box_a": dict(list(BOXED.items())[0::2]), "box_b": dict(list(BOXED.items())[1::2]),
                "box_long_a": dict(list(BOXED_LONG.items())[0::2]), "box_long_b": dict(list(BOXED_LONG.items())[1::2]),
                "warm_a": dict(list(WARM_ES.items())[0::2]), "warm_b": dict(list(WARM_ES.items())[1::2]),
                "warm_invariant_a": dict(list(WARM_INVARIANT.items())[0::2]), "warm_invariant_b": dict(list(WARM_INVARIANT.items())[1::2]),
                "warm": WARM_ES | WARM_INVARIANT, "table6_warm": TABLE6_WARM,
                "table6_warm_a": dict(list(TABLE6_WARM.items())[0::2]), "table6_warm_b": dict(list(TABLE6_WARM.items())[1::2]),
                "table6_warm_strong_a": dict(list(TABLE6_WARM_STRONG.items())[0::2]), "table6_warm_strong_b": dict(list(TABLE6_WARM_STRONG.items())[1::2])}

def stage1_of(seed0: str, sets: list[str]) -> Path:
    "Seed 0's stage 1 (RUN/pt18/stage1/checkpoints/stage1.pt), or for a variant that sets seed=N, replicate N's (RUN/pt18/stage1_seedN/...)."
    seed = int(next((x.split("=")[1] for x in sets if x.startswith("seed=")), 0))
    p = Path(seed0).resolve()
    return p if seed == 0 else p.parents[2] / f"stage1_seed{seed}" / p.parent.name / p.name

def train(a):
    from cdpose.profiles import profile
    from cdpose.training import Trainer
    from cdpose.synthetic import generate_synthposetrack, SynthConfig
    from cdpose.checkpoints import load_trained
    from cdpose.invariance import invariance_probe, keyframe_crops
    work = Path(a.work[0]); root = work / "synth" / "pt18"
    if not (root / "annotations").is_dir(): generate_synthposetrack(root, seed=0, config=SynthConfig(), progress=False)
    crops, videos = keyframe_crops(root, profile("smoke").clip, 400)
    crops = crops.to(a.device)
    out = work / "variants.json"; res = json.loads(out.read_text()) if out.exists() else []
    t0 = time.time()
    for name, (sets, eq) in VARIANT_SETS[a.variants].items():
        if any(r["variant"] == name for r in res): continue
        if a.budget and time.time() - t0 > a.budget: print("budget spent before", name); break
        equivariance = [f"loss.terms.s_equivariance={eq}"] if eq else []     # S' of the moved copy held to S θ (terms.py)
        cfg = profile("smoke", ["seed=0", f"stage1_checkpoint={stage1_of(a.stage1, sets)}", f"num_workers={a.workers}", *sets, *equivariance])
        run, t = work / "runs" / "".join(c if c.isalnum() else "_" for c in name), time.time()
        Trainer(cfg, root, run, a.device, progress=False).run()
        m = json.loads((run / "manifest.json").read_text())
        r2, d = invariance_probe(load_trained(run / "checkpoints" / "final.pt", a.device)[0], crops, videos, 4, 0.15, 30.0, 0.25, 0)
        res.append({"variant": name, "overrides": sets, "stage1": str(stage1_of(a.stage1, sets)), "s_equivariance": eq, "val_mAP": round(m["final"]["val_mAP"], 2), "train_s": round(time.time() - t, 1),
                    "r2": r2.to_dict("records"), "distances": {k: float(v) for k, v in d.items()}})
        out.write_text(json.dumps(res, indent=1))

def probe_of(r: dict) -> tuple[dict, dict, float]:
    "A run record's probe: R² of Z, R² of S ({} without S), and d(Z, Z') / d(Z, Z_other)."
    d = r["distances"]
    return r["r2"][0], (r["r2"][1] if len(r["r2"]) > 1 else {}), round(d["transformed copy"] / d["another person"], 2)

def probe_columns(r: dict) -> dict:
    "A run record's probe as table columns: R² of each move parameter from Z and from S (NaN without S), and d(Z, Z') / d(Z, Z_other)."
    from cdpose.invariance import PROBE_TARGETS
    short = dict(zip(PROBE_TARGETS, ("t_x", "t_y", "rotation", "log scale")))
    z, s, ratio = probe_of(r)
    return {**{f"Z: R² {short[k]}": z[k] for k in PROBE_TARGETS}, **{f"S: R² {short[k]}": s.get(k, float("nan")) for k in PROBE_TARGETS},
            "d(Z,Z') / d(Z,Z_other)": ratio}

def table(a):
    if a.variants in ("table6_design", "table6_long", "table6_from_stage1"): return design_table(a)
    if a.variants.startswith("table6_warm"): return warm_table6(a)
    if a.variants != "gpu": return s_table(a)
    import pandas as pd
    from cdpose.tables import run_label, write_table
    rows, src = [], Path(a.work[0]) / "variants.json"
    for r in json.loads(src.read_text()):
        z, s, ratio = probe_of(r)
        rows.append({"variant": r["variant"], "val mAP": r["val_mAP"], "Z: R² t_x": z["translation x"], "Z: R² t_y": z["translation y"],
                     "Z: R² rotation": z["rotation"], "Z: R² log scale": z["log scale"],
                     "S: largest R²": max(s.get(k, float("nan")) for k in ("translation x", "translation y", "rotation", "log scale")),
                     "d(Z,Z') / d(Z,Z_other)": ratio})
    label = run_label("smoke (Table 6 rows from seed 0's stage 1)", "SynthPoseTrack (synthetic; not PoseTrack), validation split (400 keyframe crops)",
                      0, a.device_name, a.commit or None)
    if a.machine: label["machine"] = a.machine      # the table is written here; the runs ran there
    write_table(pd.DataFrame(rows), "invariance_ls_variants", a.out, "Can L_s make Z position-invariant? L_s variants and the invariance probe", label,
                notes="Each variant trains stage 2 of the full model (0.4 epochs: the Table 6 row budget; 2: the full model's) from the CPU run's "
                      "seed-0 stage 1, on one NVIDIA H200, so its mAPs are not the CPU tables' (the reference rows land within 0.6 mAP of "
                      "them). Contrastive L_s (LossConfig.ls_margin=0.1, not the paper's): the transformed copy's Z must be nearer than "
                      "the next person's by the margin; its transforms add translation up to ±0.15. R²: linear probe on held-out videos "
                      "(07a_invariance). Last column: L_s's distance to a transformed copy over the distance to another person (lower: more "
                      "invariant). S-equivariance rows (an exploration, not the paper's and not in the package): + 10 x the mean squared difference "
                      "between S of a transformed crop and S composed with the transform. research/invariance/ls_variants.py")

def s_table(a):
    "The CPU runs (every set but the H200's), from the variants.json of each --work, in that order."
    import pandas as pd
    from cdpose.tables import run_label, write_table
    rows = []
    for w in ([a.reference] if a.reference else []) + [Path(w) / "variants.json" for w in a.work]:
        for r in json.loads(Path(w).read_text()):
            rows.append({"variant": r["variant"], "val mAP": r["val_mAP"], **probe_columns(r)})
    label = run_label("smoke (Table 6 rows from seed 0's stage 1)", "SynthPoseTrack (synthetic; not PoseTrack), validation split (400 keyframe crops)",
                      0, a.device_name, a.commit or None)
    if a.variants.startswith("canonical"):
        return write_table(pd.DataFrame(rows), "invariance_canonical", a.out, "Can S carry the transform when E_Z reads F moved back by S^-1?", label,
                notes="Each variant trains stage 2 of the full model for 2 epochs from the seed-0 stage 1 of the smoke tables of commit a0d3442 (bf16 on one "
                      "thread, two runs at a time, as those tables; their full model, seed 0: 50.30 mAP, S's largest R² 0.07, last column "
                      "0.84). 'canonical F' = SemanticConfig.canonical (Z = E_Z(A(F, S^-1)), off by default, 04_semantic_space), with L_s's "
                      "transforms translating up to ±0.15; 'relative L_s on fixed F' = ls_relative, lambda_s 0.1, ls_features_fixed; 'the "
                      "design' = 07a's (A(D(Z), S') on the moved copy, S' held to sg(S)θ, relative L_s on fixed F). R²: linear probe of the "
                      "crop's transform on held-out videos (07a_invariance); last column: lower is more invariant. research/invariance/ls_variants.py")
    if a.variants.startswith("warm"):
        return write_table(pd.DataFrame(rows), "invariance_warm_es", a.out, "S reads the move once E_S starts from a fit to the box frame: is Z then invariant?", label,
                notes="Each variant trains stage 2 of the full model for 6 epochs (858 steps) from the seed-0 stage 1 of the smoke tables of commit "
                      "2d8d8fe (bf16 on one thread, two runs at a time, as those tables); the first two rows are invariance_frame_anchor_long's. "
                      "'warm E_S': that stage 1 with its E_S replaced by one fitted alone to the box frame on its frozen features (es_fit --graft, "
                      "12000 steps: R² of S's t_x, t_y, scale entries 0.54, 0.65, 0.87 on moved validation crops). 'box frame 1' = "
                      "LossConfig.lambda_frame 1 with frame_target 'box' (S held to the keyframe's crop_frame and the moved copy's to that "
                      "composed with θ), L_s's transforms translating up to ±0.15; 'canonical F' = SemanticConfig.canonical (Z = E_Z(A(F, S^-1))); "
                      "'relative L_s 0.1 on fixed F' = ls_relative, lambda_s 0.1, ls_features_fixed; 'Z only' = use_S False. All off by default; "
                      "none is the paper's. R²: linear probe of the crop's move on held-out videos (07a_invariance); last column: lower is more "
                      "invariant. research/invariance/ls_variants.py es_fit --target box --graft, then train --variants warm_a, warm_b, warm_invariant_a/b "
                      "(--stage1 the graft, or the tables' stage 1 for Z only); then table --variants warm --reference "
                      "research/invariance/tables/invariance_frame_anchor_long_runs.json.")
    if a.variants.startswith(("frame", "box")):
        long = a.variants.startswith("box_long")
        return write_table(pd.DataFrame(rows), "invariance_frame_anchor_long" if long else "invariance_frame_anchor", a.out,
                "Can S learn where the person is when it is told? S anchored to the person's frame" + (", 6 epochs" if long else ""), label,
                notes=("Each variant trains stage 2 of the full model for 6 epochs (858 steps) " if long else "Each variant trains stage 2 of the full model for 2 epochs (286 steps) ")
                      + "from the seed-0 stage 1 of the smoke tables of commit 2d8d8fe (bf16 on one thread, two runs at a time, as those "
                      "tables; their full model, seed 0, 2 epochs: 55.02 mAP, Z's R² -0.12 / 0.14 / 0.25 / 0.33, S's at most 0.07, last column 0.85). "
                      "'S anchored' = LossConfig.lambda_frame (off by default; not the paper's) with L_s's transforms translating up to ±0.15: "
                      "'pose frame' = frame_target 'pose' (S held to pose_frame: the visible joints' centroid at 0 and RMS radius 0.5, on every "
                      "frame and on the moved copy); 'pose's position' = the same with frame_radius None (translation only); 'box frame' = "
                      "frame_target 'box' (S held to the keyframe's crop_frame, the augmentation's move of the box's own crop, and the copy's "
                      "to that composed with θ). 'E_S centroids' / 'E_S position pooling' = SemanticConfig.transform_pooling 'centroids' / "
                      "'positions'; 'A(D(Z), S')' = lambda_hs 1 with hs_original_z; 'relative L_s 0.1 on fixed F' = ls_relative, lambda_s 0.1, "
                      "ls_features_fixed. R²: linear probe of the crop's move on held-out videos (07a_invariance); last column: lower is more "
                      "invariant. research/invariance/ls_variants.py train --variants frame_a, frame_b, frame_centroids_a/b, frame_positions_a/b, box_a/b"
                      + (" (here box_long_a/b)" if long else "") + "; then table.")
    write_table(pd.DataFrame(rows), "invariance_s_variants", a.out, "Can S learn the transform? Supervising L_s's moved copy, and the invariance probe", label,
                notes="Each variant trains stage 2 of the full model from the seed-0 stage 1 on this CPU (0.4 epochs, 57 steps: the Table 6 "
                      "row budget; 2 epochs: the full model's, whose own row was 56.55 mAP in fp32 at commit 10bc72a). All options are LossConfig / SemanticConfig "
                      "fields, off by default (07_model, 04_semantic_space): 'L_h on the moved copy' = lambda_hs 1 (the copy's own heatmaps "
                      "against the moved target, translation up to ±0.15); 'A(D(Z), S')' = hs_original_z (the copy decoded from the "
                      "original's Z and its own S); 'S' = sg(S) θ' = lambda_stheta; 'relative L_s' = ls_relative with lambda_s 0.1; "
                      "'E_S centroids' = transform_pooling='centroids'; contrastive = ls_margin 0.1. R²: linear probe of the crop's "
                      "transform on held-out videos (07a_invariance); last column: lower is more invariant. research/invariance/ls_variants.py")

def design_table(a):
    "Table 6's Z / S rows with the design and the paper's, per seed, with the mean and spread of each row (table6_design, table6_long or table6_from_stage1)."
    import pandas as pd
    from cdpose.invariance import PROBE_TARGETS
    from cdpose.tables import run_label, write_table
    long, from1 = a.variants == "table6_long", a.variants == "table6_from_stage1"
    recs = json.loads((Path(a.work[0]) / "variants.json").read_text())
    rows = []
    for r in recs:
        *design, row, seed = r["variant"].split(", ")    # "design, Z only, seed 0"; "design, lambda_s 1, Z only, seed 0"; "design from stage 1, ..."
        z, s, ratio = probe_of(r)
        strength = " (lambda_s 1)" if "lambda_s 1" in design else ""     # the design's is 0.1
        when = ", from stage 1 on" if "design from stage 1" in design else ""
        rows.append({"L_s design": "paper's" if design == ["paper's"] else f"A(D(Z), S') + sg(S)θ + relative L_s{strength} on fixed F{when}", "row": row,
                     "seed": int(seed.split()[-1]), "val mAP": r["val_mAP"], "Z: largest R²": max(z[k] for k in PROBE_TARGETS),
                     "S: largest R²": max(s.get(k, float("nan")) for k in PROBE_TARGETS), "d(Z,Z') / d(Z,Z_other)": ratio})
    df = pd.DataFrame(rows)
    if long:
        df = df.drop(columns="seed")
        profile_, seeds, name = f"smoke ({LONG_EPOCHS} epochs of stage 2 from seed 0's stage 1)", 0, "table6_invariant_design_long"
        title = f"Table 6 (Z / S rows) with the invariant L_s design, {LONG_EPOCHS} epochs of stage 2, one seed"
        budget = (f"Every row trains {LONG_EPOCHS} epochs of stage 2 (858 steps; table6_invariant_design trains 2) from the CPU run's "
                  "seed-0 stage 1, on one NVIDIA H200, so its mAPs are not the CPU tables' (the H200's earlier 2-epoch full model landed "
                  "0.6 mAP from the CPU's); one seed, so a difference under the 2.6-2.9 seed spread of the 2-epoch table is not a finding. The 'lambda_s 1' rows "
                  "(--variants table6_long_strong) put 10 times the design's weight on L_s. ")
    elif from1:
        df = df.drop(columns="seed")
        profile_, seeds, name = "smoke (both stages, the design on from stage 1)", 0, "table6_invariant_design_from_stage1"
        title = "Table 6 (Z / S rows) with the invariant L_s design on from stage 1, one seed"
        budget = ("Both stages train on this CPU with the design's terms on from stage 1 (stage1_ls: its 20 single-frame epochs, 1420 steps, "
                  "train E_Z, E_S and D with them), then 2 epochs of stage 2; table6_invariant_design trains the same rows from the "
                  "paper's stage 1. One seed, so a difference under that table's 2.6-2.9 seed spread is not a finding. ")
    else:
        per_row = df.groupby(["L_s design", "row"], sort=False)["val mAP"]
        df["row mean mAP"], df["row spread"] = per_row.transform("mean"), per_row.transform("max") - per_row.transform("min")
        profile_, seeds, name = "smoke (2 epochs of stage 2 from each seed's stage 1)", "0 and 1", "table6_invariant_design"
        title = "Table 6 (Z / S rows) with an L_s design that pushes Z towards invariance"
        budget = ("Every row trains 2 epochs of stage 2 (the Table 6 rows train 0.4: 57 steps, too few for E_S to learn anything); "
                  "the paper's 'Z and S' at this budget is the fp32 full model of Tables 1-3 at commit 10bc72a (56.55 and 56.55 mAP for seeds 0 and 1). ")
    label = run_label(profile_, "SynthPoseTrack (synthetic; not PoseTrack), validation split", seeds, a.device_name, a.commit or None)
    if a.machine: label["machine"] = a.machine      # the table is written here; the runs ran there
    write_table(df, name, a.out, title, label,
                notes="Design (07a_invariance; LossConfig fields, off by default): the transformed copy's heatmaps decoded as A(D(Z), S') "
                      "from the original's Z (lambda_hs 1, hs_original_z, translation up to ±0.15), S' held to sg(S)θ (lambda_stheta 0.1), "
                      "and L_s relative to the distance between people (ls_relative, lambda_s 0.1) training E_Z alone (ls_features_fixed). "
                      + budget + "Paper (Table 6): Z only 12.7, Z and S 87.2. R²: linear probe of the crop's transform; last column: lower "
                      "is more invariant. research/invariance/ls_variants.py")

def warm_table6(a):
    "Table 6's Z / S rows with the warm design (table6_warm), per seed, with each row's mean and spread, from the records of every --work."
    import pandas as pd
    from cdpose.tables import run_label, write_table
    rows = []
    for w in a.work:
        for r in json.loads((Path(w) / "variants.json").read_text()):
            if not r["variant"].startswith("warm design"): continue
            *design, row, seed = r["variant"].split(", ")     # "warm design, Z only, seed 0"; "warm design, lambda_s 1, Z only, seed 0"
            rows.append({"lambda_s": 1.0 if "lambda_s 1" in design else 0.1, "row": row, "seed": int(seed.split()[-1]),
                         "val mAP": r["val_mAP"], **probe_columns(r)})
    df = pd.DataFrame(rows).sort_values(["lambda_s", "row", "seed"], ascending=[True, False, True])
    per_row = df.groupby(["lambda_s", "row"], sort=False)["val mAP"]
    df["row mean mAP"], df["row spread"] = per_row.transform("mean").round(2), (per_row.transform("max") - per_row.transform("min")).round(2)
    label = run_label(f"smoke ({LONG_EPOCHS} epochs of stage 2 from each seed's stage 1)", "SynthPoseTrack (synthetic; not PoseTrack), validation split",
                      "0 and 1", a.device_name, a.commit or None)
    write_table(df, "table6_warm_design", a.out, "Table 6 (Z / S rows) with a Z the probe finds invariant and an S that carries the move", label,
                notes="Both rows: L_s relative to the distance between people (ls_relative, lambda_s 0.1) training E_Z alone (ls_features_fixed), "
                      "its transforms translating up to ±0.15. 'Z and S' also starts stage 2 with an E_S fitted alone to the box frame on its "
                      "seed's frozen stage-1 features (es_fit --graft, 12000 steps) and keeps S held to that frame (lambda_frame 1, frame_target "
                      "'box'); 'Z only' has no S (use_S False). All off by default; none is the paper's. Each row trains 6 epochs of stage 2 "
                      "(858 steps) from its seed's stage 1 of the smoke tables of commit 2d8d8fe, bf16 on one thread, two runs at a time. "
                      "Seed 0's lambda_s 0.1 rows are the runs of invariance_warm_es (the same settings); the lambda_s 1 rows (seed 0 only, "
                      "--variants table6_warm_strong_a/b) put 10 times the weight on L_s. The paper's losses at the same budget, seed 0: "
                      "58.10 mAP (invariance_frame_anchor_long). Paper (Table 6): Z only 12.7, Z and S 87.2. R²: linear probe of the crop's "
                      "move on held-out videos (07a_invariance); last column: lower is more invariant. research/invariance/ls_variants.py train --variants "
                      "table6_warm_a/b and table6_warm_strong_a/b, then table --variants table6_warm.")

def es_fit(a):
    """Can E_S learn the person's frame from the features at all, given steps? A fresh E_S (each pooling) fitted on frozen backbone
    features of moved training crops (the stage 1 given), S regressed to pose_frame of the moved joints (--target pose) or to the move
    θ (box); R² of S's entries on moved validation crops, and the probe's R² of the move read from S. Writes invariance_es_fit_TARGET."""
    import numpy as np, pandas as pd, torch
    from cdpose.profiles import profile
    from cdpose.dataset import load_posetrack
    from cdpose.clips import PoseTrackClips
    from cdpose.checkpoints import load_trained
    from cdpose.semantic import SemanticConfig, TransformEncoder, invert_warp, random_similarity, transform_images
    from research.invariance.modules import heatmap_points, pose_frame
    from cdpose.invariance import PROBE_TARGETS, ridge_r2, similarity_parameters
    from cdpose.tables import run_label, write_table
    if a.graft and a.target != "box": raise SystemExit("es_fit --graft: the warm E_S is fitted to the box frame: pass --target box")
    torch.manual_seed(0); torch.set_num_threads(2)
    cfg, root = profile("smoke"), Path(a.work[0]) / "synth" / "pt18"
    backbone = load_trained(a.stage1)[0].backbone.eval()
    g = torch.Generator().manual_seed(0)
    def features(split: str, copies: int, limit: int):
        ds = PoseTrackClips(load_posetrack(root, split, progress=False).videos, cfg.clip, train=False)
        pick = np.unique(np.linspace(0, len(ds) - 1, min(limit, len(ds))).round().astype(int))
        items = [ds[int(i)] for i in pick]
        crops = torch.stack([s["images"][cfg.clip.T] for s in items]).repeat(copies, 1, 1, 1)
        kps = torch.stack([s["keypoints"][cfg.clip.T] for s in items]).repeat(copies, 1, 1)
        groups = torch.tensor([ds.samples[int(i)].video for i in pick]).repeat(copies)
        theta = random_similarity(len(crops), 30.0, 0.25, g, max_translation=0.15)
        pts, vis = heatmap_points(kps, cfg.model.input_size, cfg.model.heatmap_size)
        inv = invert_warp(theta)
        pts = pts @ inv[:, :, :2].transpose(1, 2) + inv[:, None, :, 2]
        target, ok = pose_frame(pts, vis & (pts.abs() <= 1).all(-1))
        if a.target == "box": target, ok = theta, torch.ones(len(theta), dtype=torch.bool)   # the box-centred crop's frame, moved by θ
        with torch.no_grad(): f = torch.cat([backbone(transform_images(crops[i:i + 64], theta[i:i + 64])) for i in range(0, len(crops), 64)])
        return f[ok], target[ok], theta[ok], groups[ok]
    t0 = time.time()
    f_fit, s_fit, _, _ = features("train", 2, 2300)
    f_val, s_val, th_val, g_val = features("val", 4, 400)
    print(f"features: {len(f_fit)} fit, {len(f_val)} val crops in {time.time() - t0:.0f} s", flush=True)
    entries = {"S: translation x": (0, 2), "S: translation y": (1, 2), "S: scale": (0, 0)}
    rows, es = [], None
    for pooling in ((None,) if a.graft else (None, "centroids", "positions")):
        sem = cfg.model.semantic
        es = TransformEncoder(f_fit.shape[1], tuple(f_fit.shape[2:]), SemanticConfig(dim=sem.dim, heads=sem.heads, token_grid=sem.token_grid, transform_pooling=pooling))
        opt = torch.optim.AdamW(es.parameters(), 1e-3, weight_decay=0.05)
        t0 = time.time()
        for step in range(a.steps + 1):
            if step in (a.steps // 10, a.steps):
                with torch.no_grad(): pred = torch.cat([es(f_val[i:i + 256]) for i in range(0, len(f_val), 256)])
                ss = ((s_val - s_val.mean(0)) ** 2).sum(0)
                r2 = {k: round(float(1 - ((pred - s_val) ** 2).sum(0)[i, j] / ss[i, j]), 2) for k, (i, j) in entries.items()}
                order = torch.argsort(g_val); half = g_val[order] < g_val.median()
                x, y = pred.flatten(1), similarity_parameters(th_val)
                probe = ridge_r2(x[order[half]], y[order[half]], x[order[~half]], y[order[~half]])
                rows.append({"E_S pooling": pooling or "mean (ours)", "steps": step, **r2,
                             **{f"probe from S: {k}": round(float(v), 2) for k, v in zip(PROBE_TARGETS, probe)}})
                print(rows[-1], f"{time.time() - t0:.0f} s", flush=True)
            if step == a.steps: break
            i = torch.randint(len(f_fit), (64,))
            loss = ((es(f_fit[i]) - s_fit[i]) ** 2).mean()
            opt.zero_grad(); loss.backward(); opt.step()
    if a.graft: graft_transform_encoder(a.stage1, es, Path(a.graft))
    label = run_label(f"smoke (frozen features of {a.stage1})" if a.graft else "smoke (frozen features of seed 0's stage 1)", "SynthPoseTrack (synthetic; not PoseTrack): train crops to fit, validation crops to score", 0, "cpu", a.commit or None)
    what = ("pose_frame of the moved joints (centroid of the visible joints at 0, their RMS radius 0.5; term frame_pose)"
            if a.target == "pose" else "θ itself, the box's frame of the moved crop (no crop here is augmented; term frame_box)")
    write_table(pd.DataFrame(rows), f"invariance_es_fit_{a.target}{a.tag}", a.out,
                f"Can E_S learn where the person is from the backbone's features? S regressed to the {a.target} frame", label,
                notes=f"A fresh E_S (SemanticConfig.transform_pooling: mean, the default; centroids; positions) fitted with AdamW (lr 1e-3, batch 64) "
                      f"on frozen backbone features of {'the stage 1 ' + a.stage1 if a.graft else 'the smoke tables' + chr(39) + ' seed-0 stage 1'} (commit 2d8d8fe): {len(f_fit)} training keyframe crops "
                      f"(2 random moves θ each: translation up to ±0.15, rotation ±30°, scale ±25%), S regressed to {what}. "
                      f"Scored on {len(f_val)} moved validation crops: "
                      "R² of S's entries against the target, and the invariance probe's R² of the move read linearly from S (fitted on half "
                      f"the videos). A stage-2 run is 286 steps; {a.steps // 10} and {a.steps} steps here. research/invariance/ls_variants.py es_fit"
                      + (f" --graft (mean pooling only; the fitted E_S written into a copy of that stage 1 for stage 2 to start from)" if a.graft else ""))

def graft_transform_encoder(stage1: str, es, out: Path):
    "A copy of the stage-1 checkpoint whose E_S is `es` (es_fit's, fitted to the box frame), for stage 2 to start from an S that already reads the move."
    import torch
    from cdpose.checkpoints import load_checkpoint, save_atomic
    ck = load_checkpoint(stage1)
    own = {f"space.transform_encoder.{k}": v.detach().clone() for k, v in es.state_dict().items()}
    assert own.keys() <= ck["model"].keys(), sorted(own.keys() - ck["model"].keys())
    ck["model"].update(own); out.parent.mkdir(parents=True, exist_ok=True); save_atomic(ck, out)
    print(f"{out}: stage 1 of {stage1} with es_fit's E_S ({len(own)} tensors)")

def diagnose(a):
    "How much S' of moved crops varies against the transforms, and the moved copy's heatmap error with S' against S' = S θ."
    import torch
    from cdpose.checkpoints import load_trained
    from cdpose.invariance import keyframe_crops
    from cdpose.profiles import profile
    from cdpose.semantic import random_similarity, transform_images, affine_warp, compose_affine
    model = load_trained(Path(a.run[0]) / "checkpoints" / "final.pt", a.device)[0].eval()
    crops, _ = keyframe_crops(Path(a.work[0]) / "synth" / "pt18", profile("smoke").clip, 64)
    theta = random_similarity(len(crops), 30, 0.25, torch.Generator().manual_seed(0), max_translation=0.15)
    with torch.no_grad():
        o, m = model.frame_outputs(crops), model.frame_outputs(transform_images(crops, theta))
        moved, canonical = affine_warp(o["heatmaps"], theta), model.space.decoder(o["Z"])    # the original's heatmaps, moved
        err = lambda S: ((affine_warp(canonical, S) - moved) ** 2).mean().item()
        print(json.dumps({"std of S' entries": m["S"].std(0).flatten().tolist(), "std of theta entries": theta.std(0).flatten().tolist(),
                          "error with the learned S'": err(m["S"]), "error with S theta": err(compose_affine(o["S"], theta))}, indent=1))

class IdentityTransform(torch.nn.Module):
    "An E_S that gives the identity for every crop: S = I, the box frame of an un-augmented crop."
    def forward(self, f): return IDENTITY_AFFINE.to(f.device, f.dtype).expand(len(f), 2, 3)

def s_identity(a):
    """What S's error costs: each run's val mAP with its own S, and with S set to the identity (the box frame of every un-augmented
    validation crop, which is what the box anchor asks S to give there), and how far its S strays from the identity on 400 of them.
    Writes invariance_s_identity (--run: one or more run folders with checkpoints/final.pt)."""
    import pandas as pd, torch
    from cdpose.checkpoints import load_trained
    from cdpose.dataset import load_posetrack
    from cdpose.predict import evaluate_model
    from cdpose.profiles import profile
    from cdpose.semantic import IDENTITY_AFFINE
    from cdpose.invariance import keyframe_crops
    from cdpose.tables import run_label, write_table
    torch.set_num_threads(2)
    root, clip = Path(a.work[0]) / "synth" / "pt18", profile("smoke").clip
    crops, _ = keyframe_crops(root, clip, 400)
    videos, rows = load_posetrack(root, "val", progress=False).videos, []
    for run in a.run:
        model = load_trained(Path(run) / "checkpoints" / "final.pt")[0].eval()
        if model.space is None or model.space.transform_encoder is None: raise SystemExit(f"{run}: s_identity: this model has no S")
        with torch.no_grad(): S = torch.cat([model.frame_outputs(crops[i:i + 64])["S"] for i in range(0, len(crops), 64)]).float()
        off = (S - IDENTITY_AFFINE).abs().mean(0)
        row = {"run": Path(run).name, "seed": json.loads((Path(run) / "manifest.json").read_text())["seed"], "val mAP, its S": round(evaluate_model(model, videos, clip).summary["Mean"], 2)}
        model.space.transform_encoder = IdentityTransform()        # E_S replaced by a module that gives S = I for every crop
        row["val mAP, S = identity"] = round(evaluate_model(model, videos, clip).summary["Mean"], 2)
        rows.append(row | {"mean |S - I|, linear part": round(float(off[:, :2].mean()), 4), "mean |S - I|, translation": round(float(off[:, 2].mean()), 4)})
        print(json.dumps(rows[-1]), flush=True)
    label = run_label("smoke (runs of invariance_frame_anchor_long, invariance_warm_es, table6_warm_design)",
                      "SynthPoseTrack (synthetic; not PoseTrack), validation split", " and ".join(sorted({str(r["seed"]) for r in rows})), "cpu", a.commit or None)
    write_table(pd.DataFrame(rows), "invariance_s_identity", a.out, "What S's error costs: val mAP with each run's S, and with S set to the identity", label,
                notes="Un-augmented validation crops are the box's own crops, so the box frame of every one is the identity: a model whose "
                      "S is held to the box frame should give the identity there, and any mAP it gains with S set to the identity is what "
                      "S's error costs it. The paper's losses hold S to nothing, and their S is no identity (D(Z) is fitted to it). "
                      "Evaluated in fp32 on 2 threads; the first column equals each run's own validation. mean |S - I|: over 400 validation keyframe crops. research/invariance/ls_variants.py s_identity --run RUN...")

def probe(a):
    """The invariance probe (probe.ipynb, executed with papermill from the repository root) on the models `cdpose tables --profile P`
    trained (--runs-dir), or on --checkpoint NAME=FILE models with --data ROOT; writes --out/--table (.md, .csv, .label.json)."""
    import papermill as pm
    here = Path(__file__).resolve().parent
    bad = [c for c in a.checkpoint or [] if "=" not in c or not Path(c.split("=", 1)[1]).is_file()]
    if bad: raise SystemExit(f"ls_variants probe: --checkpoint {bad[0]}: expected NAME=FILE with an existing checkpoint file")
    if a.checkpoint and not a.data: raise SystemExit("ls_variants probe: --checkpoint needs --data ROOT (the data set whose crops to probe)")
    params = {"profile": a.profile, "out_dir": str(Path(a.out).resolve()), "table_name": a.table, "device": a.device,
              "runs_dir": str(Path(a.runs_dir).resolve()), "checkpoints": dict(c.split("=", 1) for c in a.checkpoint or []),
              "data_root": a.data}
    executed = Path(a.out) / "executed"; executed.mkdir(parents=True, exist_ok=True)      # the notebook as it ran, beside its table
    pm.execute_notebook(str(here / "probe.ipynb"), str(executed / f"probe_{a.table}.ipynb"), parameters=params,
                        cwd=str(here.parents[1]), progress_bar=False, kernel_name="python3", language="python")
    print(f"{Path(a.out) / a.table}.md written")

def main(argv: list[str] | None = None):
    "The command line: `python -m research.invariance.ls_variants JOB ...` (`--help` lists the jobs and options)."
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("job", choices=["train", "table", "diagnose", "es_fit", "s_identity", "probe"]); p.add_argument("--work", nargs="+", default=["runs/ls_variants"], help="train: one folder; table: one or more")
    p.add_argument("--stage1"); p.add_argument("--device", default="cpu")
    p.add_argument("--variants", choices=list(VARIANT_SETS), default="gpu", help="train: which set of variants; table: gpu (invariance_ls_variants), table6_design, table6_long "
                   "(its records hold table6_long_strong's too), table6_from_stage1, canonical (invariance_canonical), or any other (invariance_s_variants)")
    p.add_argument("--workers", type=int, default=4, help="train: data-loader workers")
    p.add_argument("--budget", type=float, default=0, help="train: start no further variant after this many seconds (0: no limit)")
    p.add_argument("--out", default="research/invariance/tables"); p.add_argument("--device-name", default="cpu")
    p.add_argument("--machine", default="", help="table: the host the runs ran on, when not this one")
    p.add_argument("--reference", default="", help="table (CPU sets): a runs.json whose records come first, as reference rows")
    p.add_argument("--commit", default="", help="table: the commit the runs ran at, when not this one")
    p.add_argument("--run", nargs="+", help="diagnose (the first), s_identity: run folders (with checkpoints/final.pt)")
    p.add_argument("--steps", type=int, default=3000, help="es_fit: optimiser steps per E_S")
    p.add_argument("--graft", default="", help="es_fit: fit E_S (mean pooling only) to the box frame, then write a copy of --stage1 with it as E_S here")
    p.add_argument("--tag", default="", help="es_fit: appended to the table's name (invariance_es_fit_TARGET_TAG)")
    p.add_argument("--target", choices=["pose", "box"], default="pose", help="es_fit: S regressed to pose_frame of the moved joints, or to θ (the box-centred crop's frame, moved)")
    p.add_argument("--profile", default="smoke", help="probe: the profile whose `cdpose tables` models to probe")
    p.add_argument("--runs-dir", default="runs/tables", help="probe: where `cdpose tables` left its trained models")
    p.add_argument("--checkpoint", nargs="+", help="probe: NAME=FILE models to probe instead (with --data)")
    p.add_argument("--data", default="", help="probe: the PoseTrack-format root whose validation crops to probe (with --checkpoint)")
    p.add_argument("--table", default="invariance_probe", help="probe: the table's name")
    a = p.parse_args(argv); {"train": train, "table": table, "diagnose": diagnose, "es_fit": es_fit, "s_identity": s_identity, "probe": probe}[a.job](a)

if __name__ == "__main__":
    main()
