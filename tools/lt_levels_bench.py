"""Times the two ways `expected_difference_levels` sums the distributions over the levels (threshold codes times d,
or d grouped by level) at the paper's size, forward and backward, and checks they agree; prints one JSON line.
    python tools/lt_levels_bench.py [--device cuda] [--clips 32] [--levels 16]"""
import argparse, json, time
import torch, torch.nn.functional as F
from cdpose.trajectory import expected_difference_levels, mass_above_codes, mass_above_grouped

def main(device: str, clips: int, levels: int, reps: int = 10) -> dict:
    torch.manual_seed(0)
    B, K, hh, hw, H, W = 4 * clips, 17, 64, 48, 256, 192              # T = 2: 4 frame pairs per clip
    base = F.interpolate(torch.randn(B, 3, 16, 12), size=(H, W), mode="bicubic").to(device)
    img1, img2 = base, torch.roll(base, (3, 2), (2, 3)) + 0.05 * torch.randn_like(base)
    h1, h2 = (torch.rand(B, K, hh, hw, device=device) ** 8 for _ in range(2))
    sync = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    out = {"device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu", "pairs": B, "levels": levels}
    res = {}
    for name, fn in (("codes", mass_above_codes), ("grouped", mass_above_grouped)):
        times = []
        for _ in range(reps + 2):
            a, b = h1.clone().requires_grad_(), h2.clone().requires_grad_()
            sync(); t = time.perf_counter()
            e = expected_difference_levels(a, b, img1, img2, levels, mass_above=fn); e.sum().backward()
            sync(); times.append(time.perf_counter() - t)
        res[name] = (e.detach(), torch.cat([a.grad.flatten(), b.grad.flatten()]))
        out[f"{name} ms"] = round(1000 * sorted(times[2:])[len(times[2:]) // 2], 2)
    (e0, g0), (e1, g1) = res["codes"], res["grouped"]
    out["max rel diff E"] = ((e1 - e0).abs() / e0.abs()).max().item()
    out["grad cosine"] = F.cosine_similarity(g0, g1, 0).item()
    return out

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--clips", type=int, default=32)
    p.add_argument("--levels", type=int, default=16)
    a = p.parse_args()
    print(json.dumps(main(a.device, a.clips, a.levels)))
