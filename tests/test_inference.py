"""`cdpose predict` end to end: an MP4 and a frame folder in, a PoseTrack JSON (scored by `cdpose evaluate`) and an MP4 out;
every kind of bad input refused with the file named; an interrupted run leaves no output file."""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from conftest import run_cdpose

VIDEO = "200000_mpii_test"          # the tiny SynthPoseTrack's validation video (10 frames of 192x144)
EXE = Path(sys.executable).parent

@pytest.fixture(scope="module")
def data(tiny_synth):
    root = tiny_synth / "pt18"
    return {"root": root, "frames": root / "images" / "val" / VIDEO, "gt": root / "annotations" / "val" / f"{VIDEO}.json",
            "gt_dir": root / "annotations" / "val"}

@pytest.fixture(scope="module")
def checkpoint(tiny_run):
    "The session's tiny-profile model (conftest.tiny_run): the pipeline is under test, not the accuracy."
    return tiny_run / "checkpoints" / "best.pt"

@pytest.fixture(scope="module")
def mp4(data, tmp_path_factory):
    "The validation video as an MP4, written with OpenCV (MPEG-4 part 2), independently of cdpose's writer."
    path = tmp_path_factory.mktemp("video") / f"{VIDEO}.mp4"
    names = sorted(data["frames"].glob("*.jpg"))
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (192, 144))
    for n in names: w.write(cv2.imread(str(n)))
    w.release()
    return path

def _frames_of(path: Path) -> list[np.ndarray]:
    import av
    with av.open(str(path)) as c: return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]

def _main(*args) -> int:
    from cdpose.cli import main
    return main([str(a) for a in args])

def test_predict_mp4_writes_json_that_evaluates_and_a_video(data, checkpoint, mp4, tmp_path):
    out = tmp_path / "out"
    r = run_cdpose("predict", "--checkpoint", checkpoint, "--video", mp4, "--gt", data["gt"], "--out", out, "--quiet", "--device", "cpu")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "backbone passes per person-frame" in r.stdout
    assert sorted(p.name for p in out.iterdir()) == [f"{VIDEO}.json", f"{VIDEO}.mp4"]
    ev = run_cdpose("evaluate", "--gt", data["gt_dir"], "--pred", out, "--json")
    assert ev.returncode == 0, ev.stderr[-3000:]
    assert set(json.loads(ev.stdout)) == {"Head", "Shoulder", "Elbow", "Wrist", "Hip", "Knee", "Ankle", "Mean"}
    pred = json.loads((out / f"{VIDEO}.json").read_text())
    gt = json.loads(data["gt"].read_text())
    assert [im["id"] for im in pred["images"]] == [im["id"] for im in gt["images"]]
    assert len(pred["annotations"]) == len(gt["annotations"])           # one prediction per annotated person
    frames = _frames_of(out / f"{VIDEO}.mp4")
    assert len(frames) == len(gt["images"]) and frames[0].shape == (144, 192, 3)
    changed = np.mean([(np.abs(a.astype(int) - b).max(-1) > 60).mean() for a, b in zip(frames, _frames_of(mp4))])
    assert changed > 0.005, changed     # boxes and skeletons are drawn (re-encoding alone changes ~0.002% of pixels this much)

def test_naive_engine_on_frame_folder_scores_as_training_evaluation(data, checkpoint, tmp_path):
    "The frame folder through the naive engine is the training's evaluation path: `cdpose evaluate` must give its mAP."
    from cdpose.dataset import load_posetrack
    from cdpose.evaluation import evaluate_dirs
    from cdpose.predict import evaluate_model
    from cdpose.checkpoints import load_trained
    from cdpose.profiles import profile
    assert _main("predict", "--checkpoint", checkpoint, "--frames", data["frames"], "--gt", data["gt"], "--out", tmp_path / "naive",
                 "--engine", "naive", "--no-video", "--quiet") == 0
    assert sorted(p.name for p in (tmp_path / "naive").iterdir()) == [f"{VIDEO}.json"]
    model, _ = load_trained(checkpoint)
    ref = evaluate_model(model, load_posetrack(data["root"], "val", progress=False).videos, profile("tiny").clip)
    got = evaluate_dirs(data["gt_dir"], tmp_path / "naive")
    assert abs(got.summary["Mean"] - ref.summary["Mean"]) < 0.01, (got.summary, ref.summary)
    assert got.frames == ref.frames > 0 and ref.summary["Mean"] > 0

def test_streaming_frame_folder_json_holds_the_predictors_poses(data, checkpoint, tmp_path):
    "Frame i of the folder is image i of the annotation: the JSON's keypoints are the Python API's, per image id and track."
    from cdpose.dataset import load_posetrack, load_rgb
    from cdpose.inference import Predictor, annotated_boxes
    assert _main("predict", "--checkpoint", checkpoint, "--frames", data["frames"], "--gt", data["gt"], "--out", tmp_path, "--quiet") == 0
    video = load_posetrack(data["root"], "val", progress=False).videos[0]
    boxes, tracks = annotated_boxes(video)
    persons = Predictor.from_checkpoint(checkpoint).predict_video([load_rgb(video.image_path(i)) for i in range(len(video))], boxes, tracks)
    want = {(f.image_id, p.track_id): p.keypoints[:, :2] for f, ps in zip(video.frames, persons) for p in ps}
    got = {(a["image_id"], a["track_id"]): np.array(a["keypoints"]).reshape(17, 3)[:, :2]
           for a in json.loads((tmp_path / f"{VIDEO}.json").read_text())["annotations"]}
    assert got.keys() == want.keys() and len(got) > 0
    assert max(np.abs(got[k] - want[k]).max() for k in got) < 0.01
    assert len(_frames_of(tmp_path / f"{VIDEO}.mp4")) == len(video)

def test_detection_file_and_whole_frame(data, checkpoint, tmp_path):
    gt = json.loads(data["gt"].read_text())
    dets = [{"image_id": a["image_id"], "category_id": 1, "bbox": a["bbox"], "score": 0.9} for a in gt["annotations"]]
    (tmp_path / "dets.json").write_text(json.dumps(dets))
    assert _main("predict", "--checkpoint", checkpoint, "--frames", data["frames"], "--boxes", tmp_path / "dets.json",
                 "--out", tmp_path / "det", "--no-video", "--quiet") == 0
    pred = json.loads((tmp_path / "det" / f"{VIDEO}.json").read_text())
    assert [im["id"] for im in pred["images"]] == [im["id"] for im in gt["images"]]     # PoseTrack18 ids from the folder's name
    assert len(pred["annotations"]) == len(dets)
    by_box = {(a["image_id"], tuple(a["bbox"])): a["track_id"] for a in gt["annotations"]}
    links = {(by_box[(a["image_id"], tuple(a["bbox"]))], a["track_id"]) for a in pred["annotations"]}
    assert len(links) == len({g for g, _ in links})                    # IoU linking reproduces the annotated tracks
    assert _main("predict", "--checkpoint", checkpoint, "--frames", data["frames"], "--whole-frame", "--out", tmp_path / "whole",
                 "--no-video", "--quiet") == 0
    pred = json.loads((tmp_path / "whole" / f"{VIDEO}.json").read_text())
    assert len(pred["annotations"]) == len(gt["images"]) and {a["track_id"] for a in pred["annotations"]} == {0}

def _broken_inputs(data, checkpoint, tmp: Path) -> dict:
    "Each bad input: (arguments, the file the error must name, words it must contain)."
    (tmp / "junk.mp4").write_bytes(np.random.default_rng(0).bytes(4000))   # fixed bytes: every run tests the same input
    w = cv2.VideoWriter(str(tmp / "empty.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, (192, 144)); w.release()
    gap = tmp / "gap"; shutil.copytree(data["frames"], gap); (gap / "000004.jpg").unlink()
    mixed = tmp / "mixed"; shutil.copytree(data["frames"], mixed)
    cv2.imwrite(str(mixed / "000006.jpg"), cv2.resize(cv2.imread(str(mixed / "000006.jpg")), (96, 72)))
    gt = json.loads(data["gt"].read_text())
    (tmp / "other_dets.json").write_text(json.dumps([{"image_id": im["id"] + 5000, "category_id": 1, "bbox": [10, 10, 40, 80], "score": 1.0}
                                                    for im in gt["images"]]))
    ck = torch.load(checkpoint, weights_only=False)
    ck["config"]["model"]["backbone_depth"] = 2
    torch.save(ck, tmp / "other_config.pt")
    torch.save({"state_dict": ck["model"]}, tmp / "weights_only.pt")
    ck["config"]["model"]["backbone_depth"] = 1; ck["config"]["model"]["future_option"] = True
    torch.save(ck, tmp / "unknown_field.pt")
    short = dict(gt, images=gt["images"][:7]); short["annotations"] = [a for a in gt["annotations"] if a["image_id"] in {i["id"] for i in short["images"]}]
    (tmp / "short.json").write_text(json.dumps(short))
    ok = ["--checkpoint", checkpoint, "--frames", data["frames"], "--gt", data["gt"]]
    return {
        "unreadable video": (["--checkpoint", checkpoint, "--video", tmp / "junk.mp4", "--whole-frame"], "junk.mp4", "cannot read"),
        "empty video": (["--checkpoint", checkpoint, "--video", tmp / "empty.mp4", "--whole-frame"], "empty.mp4", "empty"),
        "missing video": (["--checkpoint", checkpoint, "--video", tmp / "nope.mp4", "--whole-frame"], "nope.mp4", "no such"),
        "gap in frame folder": (["--checkpoint", checkpoint, "--frames", gap, "--whole-frame"], "000005.jpg", "gap"),
        "mixed frame sizes": (["--checkpoint", checkpoint, "--frames", mixed, "--whole-frame"], "000006.jpg", "size"),
        "detections for other images": (["--checkpoint", checkpoint, "--frames", data["frames"], "--boxes", tmp / "other_dets.json"],
                                        "other_dets.json", "not a frame"),
        "annotation of another length": (["--checkpoint", checkpoint, "--frames", data["frames"], "--gt", tmp / "short.json"], "short.json", "frames"),
        "checkpoint of another configuration": (["--checkpoint", tmp / "other_config.pt", *ok[2:]], "other_config.pt", "configuration"),
        "checkpoint of an unknown configuration": (["--checkpoint", tmp / "unknown_field.pt", *ok[2:]], "unknown_field.pt", "configuration"),
        "not a training checkpoint": (["--checkpoint", tmp / "weights_only.pt", *ok[2:]], "weights_only.pt", "not a cdpose training checkpoint"),
        "no boxes": (["--checkpoint", checkpoint, "--frames", data["frames"]], "--boxes", "no person boxes"),
    }

def test_bad_input_is_refused_naming_the_file(data, checkpoint, tmp_path, capsys):
    for case, (args, named, words) in _broken_inputs(data, checkpoint, tmp_path).items():
        out = tmp_path / "out" / case.replace(" ", "_")
        capsys.readouterr()
        assert _main("predict", *args, "--out", out, "--quiet") == 2, case
        err = capsys.readouterr().err
        assert err.startswith("cdpose predict: error:") and named in err and words in err, (case, err)
        assert "Traceback" not in err and not out.exists(), case

def test_interrupted_run_leaves_no_output_file(data, checkpoint, tmp_path):
    long = tmp_path / "long"; long.mkdir()
    names = sorted(data["frames"].glob("*.jpg"))
    for i in range(300): shutil.copy(names[i % len(names)], long / f"{i:06d}.jpg")
    for sig in (signal.SIGINT, signal.SIGKILL):
        out = tmp_path / f"out_{sig.name}"
        proc = subprocess.Popen([str(EXE / "cdpose"), "predict", "--checkpoint", str(checkpoint), "--frames", str(long), "--whole-frame",
                                 "--out", str(out), "--batch-size", "1", "--quiet", "--device", "cpu"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ, OMP_NUM_THREADS="1"),
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))   # Ctrl-C as from a terminal
        t0 = time.time()
        while time.time() - t0 < 60 and proc.poll() is None and not (out.is_dir() and any(out.glob(".*.mp4.*.tmp"))): time.sleep(0.005)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        time.sleep(0.2)                                    # a few frames into the video
        proc.send_signal(sig); proc.wait(timeout=30)
        assert proc.returncode != 0
        left = sorted(p.name for p in out.iterdir()) if out.exists() else []     # (an interrupted run also removes the folder it made)
        assert not [n for n in left if n.endswith((".json", ".mp4"))], left        # nothing under a final name
        if sig == signal.SIGINT: assert left == [], left                          # and a clean interrupt removes its temporary file

def test_predict_output_is_read_by_the_official_poseval(data, checkpoint, tmp_path):
    "`cdpose predict`'s JSON is a file poseval reads, and poseval's Total equals `cdpose evaluate`'s mean AP."
    from conftest import poseval_ap
    out, gt = tmp_path / "out", tmp_path / "gt"
    assert _main("predict", "--checkpoint", checkpoint, "--frames", data["frames"], "--gt", data["gt"], "--out", out,
                 "--quiet", "--no-video") == 0
    gt.mkdir(); shutil.copy(data["gt"], gt)
    official = poseval_ap(gt, out)
    ours = json.loads(run_cdpose("evaluate", "--gt", gt, "--pred", out, "--json", check=True).stdout)
    assert abs(official["Total"] - ours["Mean"]) < 1e-6, (official, ours)

def test_predict_removes_what_a_killed_run_left(data, checkpoint, tmp_path):
    "SIGKILL cannot be caught: the next predict into the same folder removes the hidden temporaries of its own outputs."
    out = tmp_path / "out"; out.mkdir()
    stale = [out / f".{VIDEO}.json.k1ll3d.tmp", out / f".{VIDEO}.mp4.k1ll3d.tmp"]
    other = out / ".someone_else.json.x.tmp"
    for f in stale + [other]: f.write_bytes(b"half a file")
    assert _main("predict", "--checkpoint", checkpoint, "--frames", data["frames"], "--gt", data["gt"], "--out", out, "--quiet") == 0
    assert not any(f.exists() for f in stale) and other.exists()
    assert (out / f"{VIDEO}.json").is_file() and (out / f"{VIDEO}.mp4").is_file()

def test_outputs_have_ordinary_file_permissions(checkpoint, tmp_path):
    "Checkpoints, JSON and videos are written through one atomic writer, with an ordinary new file's mode (not mkstemp's 0600)."
    from cdpose.data import write_json_atomic
    umask = os.umask(0); os.umask(umask)
    assert checkpoint.stat().st_mode & 0o777 == 0o666 & ~umask
    assert write_json_atomic(tmp_path / "a.json", {}).stat().st_mode & 0o777 == 0o666 & ~umask
