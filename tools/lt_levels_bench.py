"""Times L_t's levels form at the paper's size (64x48 heatmaps, 17 joints, 256x192 crops, 4 frame pairs per clip),
forward and backward, with the product of probabilities and codes in float32 and in bfloat16 (the default), and
compares both with the exact double sum on a few pairs; prints one JSON line.
    python tools/lt_levels_bench.py [--device cuda] [--clips 32] [--levels 16]"""
import argparse, json, time
import torch, torch.nn.functional as F
from cdpose.trajectory import expected_difference_exact, expected_difference_levels

def inputs(pairs: int, device: str, seed: int = 0):
    "Smooth crops, the next frame moved by (3, 2) pixels plus noise, and peaked random heatmaps."
    g = torch.Generator().manual_seed(seed)
    base = F.interpolate(torch.randn(pairs, 3, 16, 12, generator=g), size=(256, 192), mode="bicubic")
    img2 = torch.roll(base, (3, 2), (2, 3)) + 0.05 * torch.randn(base.shape, generator=g)
    h1, h2 = (torch.rand(pairs, 17, 64, 48, generator=g) ** 8 for _ in range(2))
    return [x.to(device) for x in (h1, h2, base, img2)]

def e_and_grad(fn, h1, h2, img1, img2):
    a, b = h1.clone().requires_grad_(), h2.clone().requires_grad_()
    e = fn(a, b, img1, img2); e.sum().backward()
    return e.detach(), torch.cat([a.grad.flatten(), b.grad.flatten()])

def main(device: str, clips: int, levels: int, reps: int = 10) -> dict:
    cuda = device.startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    out = {"device": torch.cuda.get_device_name(0) if cuda else "cpu", "pairs": 4 * clips, "levels": levels}
    h1, h2, img1, img2 = inputs(4 * clips, device)
    few = inputs(2, device, seed=1)
    e0, g0 = e_and_grad(expected_difference_exact, *few)
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        fn = lambda a, b, i1, i2: expected_difference_levels(a, b, i1, i2, levels, product_dtype=dtype)
        times = []
        for _ in range(reps + 2):
            sync(); t = time.perf_counter(); e_and_grad(fn, h1, h2, img1, img2); sync(); times.append(time.perf_counter() - t)
        e, g = e_and_grad(fn, *few)
        out[f"{name} ms"] = round(1000 * sorted(times[2:])[reps // 2], 2)
        out[f"{name} rel err E vs exact"] = round(((e - e0).abs() / e0.abs()).mean().item(), 5)
        out[f"{name} grad cosine vs exact"] = round(F.cosine_similarity(g, g0, 0).item(), 5)
    return out

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--clips", type=int, default=32)
    p.add_argument("--levels", type=int, default=16)
    a = p.parse_args()
    print(json.dumps(main(a.device, a.clips, a.levels)))
