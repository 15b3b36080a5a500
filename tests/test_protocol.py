"""The top-down protocol with detected boxes (issue 32): boxes below 0.4 dropped, each pose rescored as its box score
times the mean of its joint scores above 0.2, OKS-NMS at 0.9 per frame; and `--profile paper` refuses to start without
a detection file unless `--gt-boxes`."""
from pathlib import Path

import numpy as np
import pytest

from conftest import poseval_ap, run_cdpose
from cdpose.data import Person
from cdpose.dataset import Detection, load_posetrack
from cdpose.evaluation import write_predictions
from cdpose.predict import DetectionProtocol, frame_protocol, oks_nms, pairwise_oks, rescore

def _pose(x0=100.0, y0=50.0, scores=0.9, score=1.0, rng=None):
    k = np.zeros((17, 3)); k[:, 0] = x0 + np.arange(17) * 3; k[:, 1] = y0 + np.arange(17) * 8; k[:, 2] = 1
    if rng is not None: k[:, :2] += rng.normal(0, 0.5, (17, 2))
    sc = np.full(17, scores) if np.isscalar(scores) else np.asarray(scores, float)
    return Person(keypoints=k, bbox=np.array([x0, y0, 60.0, 140.0]), score=score, keypoint_scores=sc)

def test_rescoring_is_the_box_score_times_the_mean_of_the_confident_joints():
    sc = np.array([0.9] * 8 + [0.1] * 9)                 # 8 joints above 0.2: they alone count
    a, b, c = _pose(scores=sc), _pose(scores=0.5), _pose(scores=0.1)
    rescore([a, b, c], [0.8, 0.6, 0.9], joint_threshold=0.2)
    assert a.score == pytest.approx(0.8 * 0.9) and b.score == pytest.approx(0.6 * 0.5) and c.score == 0.0

def test_oks_nms_keeps_the_better_of_two_near_identical_poses_and_both_of_two_distinct_ones():
    rng = np.random.default_rng(0)
    a, twin, far = _pose(score=0.9), _pose(score=0.7, rng=rng), _pose(x0=400, score=0.5)
    oks = pairwise_oks([a, twin, far])
    assert oks[0, 1] > 0.9 and oks[0, 2] < 0.1 and np.allclose(oks, oks.T) and np.allclose(np.diag(oks), 1)
    assert oks_nms([twin, a, far], 0.9) == [1, 2]         # the twin goes, the higher-scored copy and the other stay
    assert oks_nms([a, far], 0.9) == [0, 1] and oks_nms([], 0.9) == []

def test_the_box_threshold_drops_weak_boxes_before_any_crop(tiny_run, tiny_synth):
    from cdpose.checkpoints import load_trained
    from cdpose.predict import evaluate_model
    from cdpose.profiles import profile
    videos = load_posetrack(tiny_synth / "pt18", "val", progress=False).videos
    frames = [f for v in videos for f in v.frames]
    dets = {f.image_id: [Detection(p.bbox.copy(), 0.9) for p in f.persons] + [Detection(np.array([1., 1, 30, 60]), 0.3)]
            for f in frames}
    seen = []
    import cdpose.predict as predict
    orig = predict.PoseTrackClips
    class Spy(orig):
        def __init__(self, videos, cfg, train=False, detections=None, **kw):
            seen.append(detections); super().__init__(videos, cfg, train=train, detections=detections, **kw)
    predict.PoseTrackClips = Spy
    try: evaluate_model(load_trained(tiny_run / "checkpoints" / "final.pt")[0], videos, profile("tiny").clip, detections=dets)
    finally: predict.PoseTrackClips = orig
    assert all(d.score >= 0.4 for ds in seen[0].values() for d in ds)
    assert sum(map(len, seen[0].values())) == sum(len(f.persons) for f in frames)

def test_the_protocol_raises_poseval_map_on_duplicate_and_weak_detections(tiny_synth, tmp_path):
    data = load_posetrack(tiny_synth / "pt18", "val", check_images=False, progress=False)
    gt_dir, rng = Path(data.videos[0].source).parent, np.random.default_rng(1)
    raw, kept = {}, {}
    protocol = DetectionProtocol()
    for f in (f for v in data.videos for f in v.frames):
        persons, boxes = [], []
        for p in f.persons:
            k = p.keypoints.copy(); k[:, :2] += rng.normal(0, 2, k[:, :2].shape); k[:, 2] = 1
            sc = rng.uniform(0.5, 1.0, 17)
            for box, shift in ((0.95, 0.0), (0.6, 0.7)):         # the person, and a duplicate box of it
                q = k.copy(); q[:, :2] += shift
                persons.append(Person(keypoints=q, bbox=p.bbox.copy(), score=box * sc.mean(), keypoint_scores=sc.copy()))
                boxes.append(box)
            fp = k.copy(); fp[:, :2] += 60                        # a false detection beside the person, scored low
            persons.append(Person(keypoints=fp, bbox=p.bbox + [60, 60, 0, 0], score=0.3 * 0.9,
                                  keypoint_scores=np.full(17, 0.9)))
            boxes.append(0.3)
        raw[f.image_id] = persons
        strong = [(p, b) for p, b in zip(persons, boxes) if b >= protocol.box_threshold]
        kept[f.image_id] = frame_protocol([p for p, _ in strong], [b for _, b in strong], protocol)
    names = {Path(v.source).name: v for v in data.videos}
    write_predictions(tmp_path / "raw", names, raw); write_predictions(tmp_path / "kept", names, kept)
    before, after = poseval_ap(gt_dir, tmp_path / "raw"), poseval_ap(gt_dir, tmp_path / "kept")
    assert after["Total"] > before["Total"] + 5, (before, after)
    assert sum(map(len, kept.values())) == sum(len(f.persons) for v in data.videos for f in v.frames)

def test_the_paper_profile_refuses_to_start_without_detections_unless_gt_boxes(tiny_synth, tmp_path):
    ini = tmp_path / "settings.ini"
    ini.write_text(f"[cdpose]\nposetrack17_root = {tiny_synth / 'pt17'}\n")
    r = run_cdpose("train", "--profile", "paper", "--dataset", "posetrack17", "--settings", ini, "--out", tmp_path / "run",
                   "--quiet", "--from-scratch")
    assert r.returncode == 2 and "detections17" in r.stderr and "--gt-boxes" in r.stderr, r.stderr
    assert r.stderr.strip().count("\n") == 0 and not (tmp_path / "run").exists()
    from cdpose.profiles import profile, site_config
    from cdpose.settings import SiteData, load_settings
    settings, sources = load_settings(ini)
    cfg, _ = site_config(profile("paper", ["gt_boxes=True"]), SiteData("posetrack17", str(tiny_synth / "pt17")), settings,
                         sources, from_scratch=True)
    assert cfg.gt_boxes and cfg.detections == ""
