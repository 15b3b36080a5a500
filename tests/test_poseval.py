"""The official PoseTrack evaluation (poseval) as the oracle: every kind of file cdpose writes is read by poseval without
error, and on tie-free files poseval's Total equals `cdpose evaluate`'s mean AP to 1e-6."""
import json, shutil
from pathlib import Path

import numpy as np
import pytest

from cdpose.data import Person, posetrack18_dict, write_json_atomic
from cdpose.dataset import load_posetrack
from cdpose.evaluation import evaluate_dirs, evaluation_case, write_predictions
from conftest import poseval_ap, run_cdpose

COLUMNS = ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle"]

def assert_same_as_poseval(gt_dir: Path, pred_dir: Path):
    "poseval reads the files, and its table row equals cdpose's (the library and the command) to 1e-6."
    official = poseval_ap(gt_dir, pred_dir)
    ours = evaluate_dirs(gt_dir, pred_dir).summary
    for c in COLUMNS: assert abs(official[c] - ours[c]) < 1e-6, (c, official[c], ours[c])
    assert abs(official["Total"] - ours["Mean"]) < 1e-6, (official["Total"], ours["Mean"])
    cli = json.loads(run_cdpose("evaluate", "--gt", gt_dir, "--pred", pred_dir, "--json", check=True).stdout)
    assert abs(official["Total"] - cli["Mean"]) < 1e-6
    return official

def _noisy(p: Person, rng) -> Person:
    "A prediction of a ground-truth person: joints moved by a few pixels, some dropped, random full-precision scores."
    k = p.keypoints.copy()
    k[:, :2] += rng.normal(0, 3, (len(k), 2))
    k[rng.uniform(size=len(k)) < 0.1] = 0
    return Person(keypoints=k, bbox=p.bbox, track_id=p.track_id, score=float(rng.uniform()), keypoint_scores=rng.uniform(0, 1, len(k)))

@pytest.mark.parametrize("release", ["pt18", "pt17", "pt21"])
def test_prediction_files_of_every_release(tiny_synth, tmp_path, release):
    "write_predictions (what `cdpose predict` and evaluation write) on SynthPoseTrack in the PoseTrack18, 17 and 21 formats."
    data = load_posetrack(tiny_synth / release, "val", check_images=False, progress=False)
    gt_dir = Path(data.videos[0].source).parent
    rng = np.random.default_rng(0)
    preds = {f.image_id: [_noisy(p, rng) for p in f.persons] for v in data.videos for f in v.frames}
    preds[data.videos[0].frames[0].image_id].append(Person(keypoints=np.zeros((17, 3)) + [50, 50, 1], bbox=np.array([40., 40, 20, 20]),
                                                            keypoint_scores=rng.uniform(0, 1, 17)))   # a false positive
    write_predictions(tmp_path, {Path(v.source).name: v for v in data.videos}, preds)
    ours = assert_same_as_poseval(gt_dir, tmp_path)
    assert 20 < ours["Total"] < 100

def test_benchmark_case(tmp_path):
    "The evaluation benchmark's generated case (unique track ids, tie-free scores), written as PoseTrack18 files."
    gts, prs = evaluation_case(3, 600, seed=1)
    for name, v in gts.items(): write_json_atomic(tmp_path / "gt" / name, posetrack18_dict(v))
    for name, v in prs.items(): write_json_atomic(tmp_path / "pred" / name, posetrack18_dict(v))
    assert_same_as_poseval(tmp_path / "gt", tmp_path / "pred")

def test_predictions_without_head_boxes_or_tracks(tiny_synth, tmp_path):
    "Predictions with no head box, no person box and unknown track ids are still files poseval reads (no `bbox_head: []`)."
    data = load_posetrack(tiny_synth / "pt18", "val", check_images=False, progress=False)
    rng = np.random.default_rng(2)
    preds = {f.image_id: [Person(keypoints=_noisy(p, rng).keypoints, bbox=None, track_id=-1, keypoint_scores=rng.uniform(0, 1, 17))
                          for p in f.persons] for v in data.videos for f in v.frames}
    write_predictions(tmp_path, {Path(v.source).name: v for v in data.videos}, preds)
    ann = json.loads(next(tmp_path.glob("*.json")).read_text())["annotations"][0]
    assert "bbox_head" not in ann and "bbox" not in ann
    assert_same_as_poseval(Path(data.videos[0].source).parent, tmp_path)

def test_posetrack17_points_with_some_scores_missing_and_repeated_ids(tiny_synth, tmp_path):
    "A PoseTrack17 prediction where one point has no score (it scores -9999, as in poseval) and one joint id is repeated (the first counts)."
    data = load_posetrack(tiny_synth / "pt17", "val", check_images=False, progress=False)
    rng = np.random.default_rng(3)
    preds = {f.image_id: [_noisy(p, rng) for p in f.persons] for v in data.videos for f in v.frames}
    write_predictions(tmp_path, {Path(v.source).name: v for v in data.videos}, preds)
    f = next(tmp_path.glob("*.json")); d = json.loads(f.read_text())
    rects = [r for e in d["annolist"] for r in e["annorect"] if r["annopoints"] and len(r["annopoints"][0]["point"]) > 3]
    del rects[0]["annopoints"][0]["point"][0]["score"]
    pts = rects[1]["annopoints"][0]["point"]
    pts.append({**pts[1], "x": [pts[1]["x"][0] + 40.0], "score": [0.999]})     # a second, wrong point for the same joint
    f.write_text(json.dumps(d))
    assert_same_as_poseval(Path(data.videos[0].source).parent, tmp_path)
