"""Times L_t's levels form at the paper's size (64x48 heatmaps, 17 joints, 256x192 crops, clips of 5 frames: T = 2),
forward and backward: each frame coded once per clip (what `tpdi_loss` does) against each frame pair coded on its
own, with the product of probabilities and codes in float32 and in bfloat16 (the default). Compares each product
with the exact double sum on two frame pairs. Prints one JSON line.
    python tools/lt_levels_bench.py [--device cuda] [--clips 32] [--levels 16]"""
import argparse, json, time
import torch, torch.nn.functional as F
from cdpose.trajectory import expected_difference_exact, expected_difference_levels, expected_differences_levels

def clips_like(n: int, frames: int, device: str, seed: int = 0):
    "Heatmaps (n, frames, 17, 64, 48), peaked and random; crops (n, frames, 3, 256, 192), smooth, moving (3, 2) pixels a frame, noisy."
    g = torch.Generator().manual_seed(seed)
    base = F.interpolate(torch.randn(n, 3, 16, 12, generator=g), size=(256, 192), mode="bicubic")
    imgs = torch.stack([torch.roll(base, (3 * t, 2 * t), (2, 3)) + 0.05 * t * torch.randn(base.shape, generator=g) for t in range(frames)], 1)
    return (torch.rand(n, frames, 17, 64, 48, generator=g) ** 8).to(device), imgs.to(device)

def timed(fn, h, reps: int, sync) -> float:
    "Median seconds of forward and backward after two warm-ups."
    times = []
    for _ in range(reps + 2):
        x = h.clone().requires_grad_()
        sync(); t = time.perf_counter(); fn(x).sum().backward(); sync(); times.append(time.perf_counter() - t)
    return sorted(times[2:])[reps // 2]

def main(device: str, clips: int, levels: int, reps: int = 10) -> dict:
    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    h, imgs = clips_like(clips, 5, device)
    out = {"device": torch.cuda.get_device_name(0) if cuda else "cpu", "clips": clips, "levels": levels}
    pairs = lambda x: (x[:, :-1].flatten(0, 1), x[:, 1:].flatten(0, 1))
    h2, i2 = clips_like(2, 2, device, seed=1)                                   # two pairs for the accuracy
    def e_grad(fn):
        x = h2.clone().requires_grad_(); e = fn(x); e.sum().backward(); return e.detach().flatten(), x.grad.flatten()
    e0, g0 = e_grad(lambda x: expected_difference_exact(x[:, 0], x[:, 1], i2[:, 0], i2[:, 1]))
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        per_clip = lambda x: expected_differences_levels(x, imgs, levels, dtype)
        per_pair = lambda x: expected_difference_levels(*pairs(x), *pairs(imgs), levels, dtype)
        out[f"{name}, frames coded once per clip, ms"] = round(1000 * timed(per_clip, h, reps, sync), 2)
        out[f"{name}, each pair coded, ms"] = round(1000 * timed(per_pair, h, reps, sync), 2)
        e, g = e_grad(lambda x: expected_differences_levels(x, i2, levels, dtype)[:, 0])
        out[f"{name}, rel err E vs exact"] = round(((e - e0).abs() / e0.abs()).mean().item(), 5)
        out[f"{name}, grad cosine vs exact"] = round(F.cosine_similarity(g, g0, 0).item(), 5)
    return out

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--clips", type=int, default=32)
    p.add_argument("--levels", type=int, default=16)
    a = p.parse_args()
    print(json.dumps(main(a.device, a.clips, a.levels)))
