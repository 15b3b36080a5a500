"Bad input: one clear error naming the file and the field (or a counted warning and a skip), never a traceback."
import json, shutil

import numpy as np
import pytest

from cdpose.data import DataError, write_json_atomic, read_json
from cdpose.dataset import load_posetrack, load_detections, load_rgb
from cdpose.clips import PoseTrackClips, ClipConfig
from conftest import run_cdpose

@pytest.fixture
def pt18(tiny_synth, tmp_path):
    "A private copy of the tiny PoseTrack18 root, to break."
    root = tmp_path / "pt18"
    shutil.copytree(tiny_synth / "pt18", root)
    return root

def _val_file(root):
    return sorted((root / "annotations" / "val").glob("*.json"))[0]

def _edit(path, fn):
    d = json.loads(path.read_text()); fn(d); path.write_text(json.dumps(d))

def _cli_error(root, *fields):
    "The CLI fails with exit status 2 and one line naming the file and each field; no traceback."
    r = run_cdpose("inspect", root)
    assert r.returncode == 2, r.stdout + r.stderr
    last = r.stderr.strip().splitlines()[-1]   # progress bars may precede it
    assert "Traceback" not in r.stderr and last.startswith("cdpose inspect: error:"), r.stderr
    for f in fields: assert f in last, last
    return last

def test_malformed_json(pt18):
    f = _val_file(pt18); f.write_text('{"images": [1, 2,, 3]}')
    with pytest.raises(DataError, match="invalid JSON at line 1"): load_posetrack(pt18, "val", progress=False)
    _cli_error(pt18, f.name, "invalid JSON")

def test_truncated_json(pt18):
    f = _val_file(pt18); f.write_text(f.read_text()[:500])
    with pytest.raises(DataError, match="truncated"): load_posetrack(pt18, "val", progress=False)
    _cli_error(pt18, f.name)

def test_missing_frame_image(pt18):
    f = _val_file(pt18)
    name = json.loads(f.read_text())["images"][3]["file_name"]
    (pt18 / name).unlink()
    with pytest.raises(DataError, match=r"images\[3\]\.file_name: frame image not found"): load_posetrack(pt18, "val", progress=False)
    _cli_error(pt18, f.name, "images[3].file_name")
    assert run_cdpose("inspect", pt18, "--no-images").returncode == 0   # the annotations themselves are fine

def test_wrong_keypoint_count(pt18):
    f = _val_file(pt18)
    _edit(f, lambda d: d["annotations"][2].update(keypoints=d["annotations"][2]["keypoints"][:45]))
    with pytest.raises(DataError, match=r"annotations\[2\]\.keypoints: expected 51 values \(17 x 3\), got 45"):
        load_posetrack(pt18, "val", progress=False)
    _cli_error(pt18, f.name, "annotations[2].keypoints")

def test_nan_keypoint(pt18):
    f = _val_file(pt18)
    _edit(f, lambda d: d["annotations"][0]["keypoints"].__setitem__(0, float("nan")))   # json writes NaN
    with pytest.raises(DataError, match=r"annotations\[0\]\.keypoints: keypoints contain NaN"): load_posetrack(pt18, "val", progress=False)

def test_box_outside_image_is_skipped_and_counted(pt18):
    f = _val_file(pt18)
    _edit(f, lambda d: d["annotations"][0].update(bbox=[5000, 5000, 40, 80]))
    data = load_posetrack(pt18, "val", progress=False)
    assert data.summary()["issues"] == 1 and "outside the" in str(data.issues[0]) and f.name in str(data.issues[0])
    r = run_cdpose("inspect", pt18)
    assert r.returncode == 0 and "warning [val]" in r.stdout and "person skipped" in r.stdout and "1 person(s) skipped" in r.stdout

def test_empty_video(pt18):
    f = _val_file(pt18); f.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    with pytest.raises(DataError, match="images: the video has no frames"): load_posetrack(pt18, "val", progress=False)
    _cli_error(pt18, f.name, "no frames")

def test_annotation_for_unknown_image(pt18):
    f = _val_file(pt18)
    _edit(f, lambda d: d["annotations"][1].update(image_id=123))
    with pytest.raises(DataError, match=r"annotations\[1\]\.image_id: 123 is not the id of any image"):
        load_posetrack(pt18, "val", progress=False)

def test_missing_annotation_folder(tmp_path):
    _cli_error(tmp_path, "annotations/val")

def test_detection_file_for_other_images(tiny_synth, tmp_path):
    videos = load_posetrack(tiny_synth / "pt18", "val", progress=False).videos
    f0 = videos[0].frames[0]
    good = [{"image_id": f0.image_id, "category_id": 1, "bbox": [1, 2, 30, 60], "score": 0.9},
            {"image_name": "somewhere/else/" + f0.file_name, "category_id": 1, "bbox": [3, 4, 30, 60], "score": 0.8},
            {"image_id": f0.image_id, "category_id": 1, "bbox": [1, 2, 30, 60], "score": 0.1}]
    write_json_atomic(tmp_path / "dets.json", good)
    dets = load_detections(tmp_path / "dets.json", videos, score_threshold=0.2)
    assert [d.score for d in dets[f0.image_id]] == [0.9, 0.8]
    write_json_atomic(tmp_path / "other.json", good + [{"image_id": 42, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 1.0}])
    with pytest.raises(DataError, match=r"other\.json: \[3\]\.image_id: 42 is not a frame of the loaded videos"):
        load_detections(tmp_path / "other.json", videos)
    write_json_atomic(tmp_path / "nobox.json", [{"image_id": f0.image_id, "score": 1.0}])
    with pytest.raises(DataError, match=r"\[0\]\.bbox: missing"): load_detections(tmp_path / "nobox.json", videos)

def test_posetrack17_bad_joint_id(tiny_synth, tmp_path):
    root = tmp_path / "pt17"; shutil.copytree(tiny_synth / "pt17", root)
    f = sorted((root / "annotations" / "val").glob("*.json"))[0]
    d = json.loads(f.read_text())
    i = next(i for i, e in enumerate(d["annolist"]) if e["annorect"])
    d["annolist"][i]["annorect"][0]["annopoints"][0]["point"][0]["id"] = [15]; f.write_text(json.dumps(d))
    with pytest.raises(DataError, match=rf"annolist\[{i}\]\.annorect\[0\]\.annopoints\[0\]\.point\[0\]\.id: joint id 15"):
        load_posetrack(root, "val", progress=False)

def test_corrupt_frame_image_names_the_file(pt18):
    data = load_posetrack(pt18, "val", progress=False)
    ds = PoseTrackClips(data.videos, ClipConfig(input_size=(64, 48), heatmap_size=(16, 12)))
    path = data.videos[0].image_path(ds.samples[0].frame)
    path.write_bytes(b"not a jpeg")
    with pytest.raises(DataError, match="cannot read the image"): ds[0]
    with pytest.raises(DataError, match=str(path.name)): load_rgb(path)

def test_atomic_json_write_keeps_the_old_file_on_failure(tmp_path):
    p = tmp_path / "out.json"
    write_json_atomic(p, {"a": 1})
    with pytest.raises(TypeError): write_json_atomic(p, {"a": object()})
    assert read_json(p) == {"a": 1} and [q.name for q in tmp_path.iterdir()] == ["out.json"]

# -- what `cdpose inspect` must find (issue 13 §4): each names the file and the frame or field ------------------------

def _frame(root, i):
    "The path of frame `i` of the first validation video."
    d = json.loads(_val_file(root).read_text())
    return root / d["images"][i]["file_name"]

def test_mixed_resolution_in_one_video(pt18):
    import cv2
    path = _frame(pt18, 3)
    cv2.imwrite(str(path), np.zeros((100, 120, 3), np.uint8))
    _cli_error(pt18, _val_file(pt18).name, "images[3].file_name", path.name, "120x100")

@pytest.mark.parametrize("content", [b"", b"garbage, not an image"], ids=["zero bytes", "garbage"])
def test_unreadable_frame_after_the_first(pt18, content):
    path = _frame(pt18, 4)
    path.write_bytes(content)
    _cli_error(pt18, _val_file(pt18).name, "images[4].file_name", path.name, f"{len(content)} bytes")

def test_truncated_frame_is_found_when_decoding(pt18):
    "A JPEG whose header is intact but whose data is cut: the header check passes, decoding every frame finds it."
    path = _frame(pt18, 5)
    data = path.read_bytes(); path.write_bytes(data[:len(data) * 2 // 3])
    load_posetrack(pt18, "val", progress=False)                     # headers only: fast, and this frame's header is fine
    with pytest.raises(DataError, match=r"images\[5\]\.file_name: .*" + path.name):
        load_posetrack(pt18, "val", progress=False, decode_images=True)

def test_joints_far_outside_the_image_are_reported(pt18):
    f = _val_file(pt18)
    d = json.loads(f.read_text())
    d["annotations"][0]["keypoints"][0:3] = [900.0, 40.0, 1]         # the image is 192 x 144
    f.write_text(json.dumps(d))
    r = run_cdpose("inspect", pt18)
    assert r.returncode == 0, r.stderr
    line = next(l for l in r.stdout.splitlines() if "far outside" in l)
    frame = next(im["file_name"] for im in d["images"] if im["id"] == d["annotations"][0]["image_id"])
    assert f.name in line and frame in line and "192x144" in line, line

def test_keypoints_as_numeric_strings(pt18):
    _edit(_val_file(pt18), lambda d: d["annotations"][0].__setitem__("keypoints", [str(v) for v in d["annotations"][0]["keypoints"]]))
    _cli_error(pt18, _val_file(pt18).name, "annotations[0].keypoints", "numbers")

@pytest.mark.parametrize("field,value", [("id", "12"), ("track_id", "3"), ("bbox", ["1", 2, 3, 4])])
def test_wrong_typed_annotation_fields(pt18, field, value):
    _edit(_val_file(pt18), lambda d: d["annotations"][0].__setitem__(field, value))
    _cli_error(pt18, _val_file(pt18).name, f"annotations[0].{field}")

def test_null_track_id_is_an_unknown_track(pt18):
    _edit(_val_file(pt18), lambda d: d["annotations"][0].__setitem__("track_id", None))
    v = load_posetrack(pt18, "val", progress=False).videos[0]
    assert min(p.track_id for f in v.frames for p in f.persons) == -1

def test_unfinished_data_set_is_refused(tiny_synth, tmp_path):
    "A generation that was killed (or hit a full disk) leaves its marker: loading and inspecting refuse the set."
    from cdpose.synthetic import TINY_SYNTH, generate_synthposetrack, synth_complete
    from cdpose.dataset import INCOMPLETE
    root = tmp_path / "synth"
    shutil.copytree(tiny_synth / "pt18", root)
    assert synth_complete(root)
    (root / INCOMPLETE).write_text("")
    assert not synth_complete(root)
    _cli_error(root, INCOMPLETE, "not completely written")

def test_inspect_decode_finds_a_cut_short_frame(pt18):
    path = _frame(pt18, 5)
    data = path.read_bytes(); path.write_bytes(data[:len(data) * 2 // 3])
    assert run_cdpose("inspect", pt18).returncode == 0                  # headers are intact
    r = run_cdpose("inspect", pt18, "--decode")
    assert r.returncode == 2 and "images[5].file_name" in r.stderr and path.name in r.stderr, r.stderr

def test_annotation_image_id_of_the_wrong_type(pt18):
    _edit(_val_file(pt18), lambda d: d["annotations"][0].__setitem__("image_id", [d["annotations"][0]["image_id"]]))
    _cli_error(pt18, _val_file(pt18).name, "annotations[0].image_id")

@pytest.mark.parametrize("score", ["0.9x", None], ids=["string", "null"])
def test_detection_score_of_the_wrong_type(tiny_synth, tmp_path, score):
    videos = load_posetrack(tiny_synth / "pt18", "val", progress=False).videos
    f = videos[0].frames[0]
    path = tmp_path / "dets.json"
    path.write_text(json.dumps([{"image_id": f.image_id, "category_id": 1, "bbox": [1, 2, 30, 40], "score": score}]))
    with pytest.raises(DataError, match=r"\[0\]\.score: expected a finite number"): load_detections(path, videos)
    path.write_text(json.dumps([{"image_id": [f.image_id], "category_id": 1, "bbox": [1, 2, 30, 40], "score": 0.5}]))
    with pytest.raises(DataError, match=r"\[0\]\.image_id"): load_detections(path, videos)

def test_atomic_file_keeps_the_name_of_another_files_error(tmp_path):
    "An error reading an input inside the block names that input, not the output being written."
    from cdpose.data import atomic_file
    with pytest.raises(FileNotFoundError) as e:
        with atomic_file(tmp_path / "out.json") as tmp: open(tmp_path / "missing_input.txt").read()
    assert "missing_input.txt" in str(e.value) and not list(tmp_path.iterdir())

# -- names that lead outside the data root (issue 32): refused before anything is opened ------------------------------
def _outside_copy(pt18, f) -> str:
    "A readable frame placed outside the root, and the '..' name that reaches it from inside the root."
    name = json.loads(f.read_text())["images"][0]["file_name"]
    shutil.copy(pt18 / name, pt18.parent / "outside.jpg")
    return "../" * (len(name.split("/")) - 1) + "../outside.jpg"

@pytest.mark.parametrize("bad", ["dotdot", "absolute"])
def test_frame_name_outside_the_root_is_refused(pt18, bad, monkeypatch):
    f = _val_file(pt18)
    name = _outside_copy(pt18, f) if bad == "dotdot" else str(pt18.parent / "outside.jpg")
    if bad == "absolute": _outside_copy(pt18, f)
    _edit(f, lambda d: d["images"][0].__setitem__("file_name", name))
    opened = []
    import cdpose.dataset as ds
    monkeypatch.setattr(ds, "_frame_size", lambda p, *a, **k: opened.append(p))
    with pytest.raises(DataError, match=r"images\[0\]\.file_name: .* leads outside the data root"):
        load_posetrack(pt18, "val", progress=False)
    assert not opened                                    # refused while reading the file, before any frame is touched
    _cli_error(pt18, f.name, "images[0].file_name", "outside the data root")

def test_posetrack17_frame_name_outside_the_root_is_refused(tiny_synth, tmp_path):
    root = tmp_path / "pt17"; shutil.copytree(tiny_synth / "pt17", root)
    f = sorted((root / "annotations" / "val").glob("*.json"))[0]
    d = json.loads(f.read_text()); d["annolist"][1]["image"][0]["name"] = "../../../../etc/hostname"; f.write_text(json.dumps(d))
    with pytest.raises(DataError, match=r"annolist\[1\]\.image\[0\]\.name: .* leads outside the data root"):
        load_posetrack(root, "val", progress=False)

def test_vid_id_holding_a_path_is_refused(pt18):
    _edit(_val_file(pt18), lambda d: d["images"][2].__setitem__("vid_id", "../../x"))
    _cli_error(pt18, _val_file(pt18).name, "images[2].vid_id")
