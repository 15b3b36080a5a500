"The data pipeline (issue 31): clips that reuse decoded frames equal clips decoded from scratch, and an epoch's order."
import numpy as np
import torch

import cdpose.clips as clips
from cdpose.clips import ClipConfig, PoseTrackClips, epoch_order
from cdpose.dataset import load_posetrack

CFG = ClipConfig(input_size=(64, 48), heatmap_size=(16, 12), T=2)

def test_clips_from_reused_frames_equal_clips_decoded_alone(tiny_synth, monkeypatch):
    "Tolerance 0: reuse changes which decode a clip reads, never its pixels, targets or transforms."
    videos = load_posetrack(tiny_synth / "pt18", "train", progress=False).videos
    decodes = []
    real = clips.load_rgb
    monkeypatch.setattr(clips, "load_rgb", lambda p: decodes.append(p) or real(p))
    shared = PoseTrackClips(videos, CFG, train=True, seed=1)
    shared.set_epoch(3)
    order = epoch_order(shared.samples, 8, 1, 3)[:48]
    for i in order:
        alone = PoseTrackClips(videos, CFG, train=True, seed=1); alone.set_epoch(3)
        a, b = shared[i], alone[i]
        for k in ("images", "target", "target_weight", "keypoints", "transform", "crop_frame"):
            assert torch.equal(a[k], b[k]), (i, k)
    per_clip = (len(decodes) - len(order) * (2 * CFG.T + 1)) / len(order)     # `alone` decodes 2T+1 per clip
    persons = len(order) / len({(shared.samples[i].video, shared.samples[i].frame) for i in order})
    assert persons > 1 and per_clip <= (2 * CFG.T + 1) / persons + 1e-9, (per_clip, persons)

def test_an_epoch_keeps_a_frames_persons_together_and_covers_whole_batches(tiny_synth):
    videos = load_posetrack(tiny_synth / "pt18", "train", progress=False).videos
    samples = PoseTrackClips(videos, CFG, train=True).samples
    ranks = [epoch_order(samples, 12, 0, 1, rank=r, world=3) for r in range(3)]
    everyone = [i for r in ranks for i in r]
    assert len(everyone) == len(set(everyone)) == len(samples) // 12 * 12
    for r in ranks:                       # within a process, a frame's persons are never split by another frame
        frames = [(samples[i].video, samples[i].frame) for i in r]
        starts = [k for k in range(len(frames)) if k == 0 or frames[k] != frames[k - 1]]
        assert len(starts) == len(set(frames))
    assert epoch_order(samples, 12, 0, 1) != epoch_order(samples, 12, 0, 2)          # a new order every epoch
    assert epoch_order(samples, 12, 0, 1) == epoch_order(samples, 12, 0, 1)          # the same wherever it is made

def test_to_tensor_equals_the_normalisation_formula_bit_for_bit():
    from cdpose.clips import IMAGENET_MEAN, IMAGENET_STD, to_tensor
    rng = np.random.default_rng(0)
    for crop in (rng.integers(0, 256, (256, 192, 3), dtype=np.uint8), rng.integers(0, 256, (9, 14, 3), dtype=np.uint8)[:, ::-1]):
        ref = torch.from_numpy(((crop.astype(np.float32) / 255 - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1).copy())
        out = to_tensor(crop)
        assert torch.equal(out, ref) and out.is_contiguous()

def test_a_run_from_before_batch_order_is_the_shuffled_order():
    "Runs made before `batch_order` existed were shuffled person by person: they resume, and are reused, as such."
    from cdpose.checkpoints import config_differences, run_fingerprint
    from cdpose.profiles import config_dict, profile
    now = config_dict(profile("tiny", ["batch_order=shuffled"]))
    before = {k: v for k, v in now.items() if k != "batch_order"}
    assert config_differences(before, now) == [] and run_fingerprint(before, "d") == run_fingerprint(now, "d")
    frames = config_dict(profile("tiny"))
    assert config_differences(before, frames) == ["batch_order: checkpoint 'shuffled' vs now 'frames'"]
    assert run_fingerprint(before, "d") != run_fingerprint(frames, "d")

def test_box_shift_moves_the_training_crop_and_leaves_every_other_draw(tiny_synth):
    "ClipConfig.box_shift (research/detections): the crop moves by at most that fraction of the enlarged box, per axis."
    from dataclasses import replace
    from cdpose.clips import box_center_size, invert_affine
    videos = load_posetrack(tiny_synth / "pt18", "train", progress=False).videos
    plain, moved = (PoseTrackClips(videos, replace(CFG, box_shift=f), train=True, seed=2) for f in (None, 0.1))
    aspect, moves = CFG.input_size[1] / CFG.input_size[0], []
    for i in range(0, len(plain), max(1, len(plain) // 12)):
        a, b = plain[i], moved[i]
        assert torch.equal(a["transform"][..., :2], b["transform"][..., :2]) and bool(a["flipped"]) == bool(b["flipped"])
        centre = np.array([(CFG.input_size[1] - 1) / 2, (CFG.input_size[0] - 1) / 2, 1.0])   # the crop's centre, in the image
        ca, cb = (invert_affine(x["transform"][CFG.T].double().numpy()) @ centre for x in (a, b))
        _, size = box_center_size(plain.samples[i].bbox, aspect, CFG.box_enlarge)
        moves.append(np.abs(cb - ca) / size)
    moves = np.array(moves)
    assert moves.max() <= 0.1 * 1.0001 and moves.max() > 0.02, moves.max()       # moved, and by no more than the shift
    val = PoseTrackClips(videos, replace(CFG, box_shift=0.1), train=False)       # evaluation crops never move
    assert torch.equal(val[0]["transform"], PoseTrackClips(videos, CFG, train=False)[0]["transform"])
