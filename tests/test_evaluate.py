"`cdpose evaluate`: JSON output, the prediction writer, and the cases where poseval crashes or mis-scores."
import json, shutil

import numpy as np
import pytest

from cdpose.data import read_json, write_json_atomic
from cdpose.evaluation import evaluate_dirs, load_video_dir, write_predictions
from conftest import run_cdpose

KEYS = ["Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean"]

@pytest.fixture
def gt_pred(tiny_synth, tmp_path):
    "Ground-truth val files of the tiny synthetic set, and predictions written from them with a shift."
    gt = tmp_path / "gt"; shutil.copytree(tiny_synth / "pt18" / "annotations" / "val", gt)
    videos = load_video_dir(gt)
    preds = {}
    for v in videos.values():
        for f in v.frames:
            ps = []
            for p in f.persons:
                q = type(p)(keypoints=p.keypoints.copy(), bbox=p.bbox, track_id=p.track_id, keypoint_scores=np.full(17, 0.8))
                q.keypoints[q.keypoints[:, 2] > 0, :2] += 1.0       # unannotated joints stay (0, 0, 0): absent
                ps.append(q)
            preds[f.image_id] = ps
    write_predictions(tmp_path / "pred", videos, preds)
    return gt, tmp_path / "pred"

def test_json_output_and_writer_round_trip(gt_pred, tmp_path):
    gt, pred = gt_pred
    r = run_cdpose("evaluate", "--gt", gt, "--pred", str(pred).rstrip("/"), "--json", "--csv", tmp_path / "ev.csv", check=True)
    out = json.loads(r.stdout)                       # nothing else on stdout
    assert list(out) == KEYS and out["Mean"] == 100.0
    assert (tmp_path / "ev.csv").read_text().startswith("video,frames,gt_joints,Head")
    assert (tmp_path / "ev.joints.csv").exists()
    for f in pred.glob("*.json"):                    # poseval's needs: same frames, categories, scores, track ids
        p, g = read_json(f), read_json(gt / f.name)
        assert [i["file_name"] for i in p["images"]] == [i["file_name"] for i in g["images"]]
        assert p["categories"][0]["name"] == "person" and len(p["categories"][0]["keypoints"]) == 17
        assert all(len(a["scores"]) == 17 and isinstance(a["track_id"], int) for a in p["annotations"])

def test_human_table_and_smoothness(gt_pred):
    gt, pred = gt_pred
    r = run_cdpose("evaluate", "--gt", gt, "--pred", pred, "--smoothness", check=True)
    assert "Shoulder" in r.stdout and "acceleration error 0.00%" in r.stdout and "jitter +0.00%" in r.stdout

def test_oks_metric(gt_pred):
    gt, pred = gt_pred
    out = json.loads(run_cdpose("evaluate", "--gt", gt, "--pred", pred, "--metric", "oks", "--json", check=True).stdout)
    assert out["AP"] > 90

def _fails(gt, pred, *fields, extra=()):
    r = run_cdpose("evaluate", "--gt", gt, "--pred", pred, *extra)
    last = r.stderr.strip().splitlines()[-1]
    assert r.returncode == 2 and "Traceback" not in r.stderr and last.startswith("cdpose evaluate: error:"), r.stderr
    for f in fields: assert f in last, last

def test_missing_prediction_file(gt_pred):
    gt, pred = gt_pred
    victim = sorted(pred.glob("*.json"))[0]; victim.unlink()
    _fails(gt, pred, victim.name, "no prediction file")
    out = json.loads(run_cdpose("evaluate", "--gt", gt, "--pred", pred, "--missing", "empty", "--json", check=True).stdout)
    assert out["Mean"] < 100.0                       # that video's persons count as missed

def test_prediction_frames_subset_and_foreign_frame(gt_pred):
    gt, pred = gt_pred
    f = sorted(pred.glob("*.json"))[0]
    d = read_json(f)
    labelled = {a["image_id"] for a in d["annotations"]}
    d["images"] = [i for i in d["images"] if i["id"] in labelled]     # only the frames with persons: poseval would raise
    write_json_atomic(f, d)
    assert json.loads(run_cdpose("evaluate", "--gt", gt, "--pred", pred, "--json", check=True).stdout)["Mean"] == 100.0
    d["images"].append(dict(d["images"][0], id=999, file_name="images/val/other/000000.jpg")); write_json_atomic(f, d)
    _fails(gt, pred, f.name, "999", "is not a frame of the ground truth")

def test_duplicate_image_ids(gt_pred):
    gt, pred = gt_pred
    f = sorted(pred.glob("*.json"))[0]
    d = read_json(f); d["images"][1]["id"] = d["images"][0]["id"]; write_json_atomic(f, d)
    _fails(gt, pred, f.name, "images[].id", "duplicate image ids")

def test_missing_track_id_is_fine_for_ap(gt_pred):
    gt, pred = gt_pred
    for f in pred.glob("*.json"):
        d = read_json(f)
        for a in d["annotations"]: a.pop("track_id")
        write_json_atomic(f, d)
    assert json.loads(run_cdpose("evaluate", "--gt", gt, "--pred", pred, "--json", check=True).stdout)["Mean"] == 100.0

def test_malformed_prediction_and_wrong_scores(gt_pred):
    gt, pred = gt_pred
    f = sorted(pred.glob("*.json"))[0]
    good = f.read_text()
    f.write_text(good[:100]); _fails(gt, pred, f.name, "invalid JSON")
    d = json.loads(good); d["annotations"][0]["scores"] = [0.5] * 15; write_json_atomic(f, d)
    _fails(gt, pred, f.name, "annotations[0].scores", "expected 17")

def test_missing_head_box_in_ground_truth(gt_pred):
    gt, pred = gt_pred
    f = sorted(gt.glob("*.json"))[0]
    d = read_json(f); d["annotations"][0]["bbox_head"] = []; write_json_atomic(f, d)
    _fails(gt, pred, f.name, "bbox_head")

def test_posetrack17_predictions_stay_with_their_video(tiny_synth):
    "PoseTrack17 files carry no image ids: ours must be unique across videos (predictions are keyed by them) and equal PT18's."
    import torch
    from cdpose.dataset import load_posetrack
    from cdpose.clips import PoseTrackClips
    from cdpose.model import CDPose
    from cdpose.profiles import profile
    from cdpose.predict import predict_dataset
    v17 = load_posetrack(tiny_synth / "pt17", "train", progress=False).videos
    v18 = load_posetrack(tiny_synth / "pt18", "train", progress=False).videos
    assert len(v17) > 1
    ids17 = [f.image_id for v in v17 for f in v.frames]
    assert len(set(ids17)) == len(ids17) and sorted(ids17) == sorted(f.image_id for v in v18 for f in v.frames)
    cfg = profile("tiny"); torch.manual_seed(0)
    preds = predict_dataset(CDPose(cfg.model).eval(), PoseTrackClips(v17, cfg.clip, train=False))
    for v in v17:       # one prediction per annotated person of the frame, none borrowed from another video
        for f in v.frames:
            if f.persons: assert len(preds.get(f.image_id, [])) == len(f.persons), (v.name, f.index)

def test_evaluate_and_inspect_import_neither_torch_nor_opencv(tiny_synth):
    "`cdpose evaluate` and `cdpose inspect` start fast: reading and scoring annotations needs no PyTorch and no OpenCV."
    import subprocess, sys
    gt = tiny_synth / "pt18" / "annotations" / "val"
    code = ("import sys; from cdpose.cli import main\n"
            f"assert main(['evaluate', '--gt', {str(gt)!r}, '--pred', {str(gt)!r}, '--json']) == 0\n"
            f"assert main(['inspect', {str(tiny_synth / 'pt18')!r}, '--json']) == 0\n"
            "heavy = sorted(m for m in ('torch', 'cv2', 'timm', 'pycocotools') if m in sys.modules)\n"
            "assert not heavy, heavy")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
