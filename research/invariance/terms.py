"""The invariance study's loss terms, registered with `cdpose.model.register_loss_term` (none is the paper's). Each is
switched on by `--set loss.terms.NAME=WEIGHT`; those that replace the paper's L_s go with `--set loss.lambda_s=0`.

| term | what it asks | was (before the core's registry) |
|---|---|---|
| `s_contrastive` | Z' nearer to Z than the next person's Z is, by a margin of 0.1 | `ls_margin=0.1` |
| `s_relative` | L_s over the distance to the next person's Z (no rescaling of Z games it) | `ls_relative=True` |
| `s_relative_fixed` | the same, training E_Z alone on features whose gradient stops | `ls_relative` + `ls_features_fixed` |
| `hs` | L_h on L_s's moved copy, against the target moved by θ | `lambda_hs` |
| `hs_swapped` | the same, the copy decoded as A(D(Z), S') from the original's Z | `lambda_hs` + `hs_original_z` |
| `stheta` | the copy's S' held to sg(S) θ | `lambda_stheta` |
| `frame_box` | S held to the keyframe's box frame (`crop_frame`), the copy's to it composed with θ | `lambda_frame`, `frame_target='box'` |
| `frame_pose` | S held to `pose_frame` of the visible joints (the copy's at θ^-1 p) | `lambda_frame`, `frame_target='pose'` |
| `frame_pose_position` | the same, translation only | ... and `frame_radius=None` |
| `s_equivariance` | S' of the moved copy equal to S composed with θ (3x3 homogeneous) | `tools/ls_variants.py`'s patched loss |
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from cdpose.model import LossInputs, heatmap_mse, register_loss_term
from cdpose.semantic import affine_warp, compose_affine, invert_warp, latent_distance

from .modules import heatmap_points, pose_frame

MARGIN = 0.1          # s_contrastive's margin


def moved_outputs(x: LossInputs) -> dict:
    "The moved keyframe copy through the space (Z', S', heatmaps), made once for every term that reads it."
    return x.once("moved_outputs", lambda: x.model.space(x.moved_features))


def _other(z: torch.Tensor) -> torch.Tensor:
    "The distance from each Z to the next person's in the batch."
    return latent_distance(z, z.roll(1, 0))


def s_contrastive(x: LossInputs) -> torch.Tensor | None:
    "max(0, d(Z, Z') - d(Z, Z_other) + margin): Z' must be nearer to Z than another person's Z is."
    if x.out.get("Z") is None: return None
    z = x.out["Z"][:, x.key]
    return F.relu(latent_distance(z, moved_outputs(x)["Z"]) - _other(z) + MARGIN).mean()


def s_relative(x: LossInputs, fixed: bool = False) -> torch.Tensor | None:
    "mean d(Z, Z') / mean d(Z, Z_other); `fixed`: E_Z again on features whose gradient stops (L_s cannot make F forget the position)."
    if x.out.get("Z") is None: return None
    if fixed: z, z_moved = x.model.space.encode(x.out["F"][:, x.key].detach()), x.model.space.encode(x.moved_features.detach())
    else: z, z_moved = x.out["Z"][:, x.key], moved_outputs(x)["Z"]
    return latent_distance(z, z_moved).mean() / (_other(z).mean() + 1e-6)


def moved_heatmaps(x: LossInputs, swapped: bool = False) -> torch.Tensor | None:
    "L_h of the moved copy against the target moved by θ; `swapped`: the copy decoded from the original's Z and its own S', A(D(Z), S')."
    if x.out.get("Z") is None: return None
    o, key = moved_outputs(x), x.key
    hm = o["heatmaps"]
    if swapped:
        hm = x.model.space.decoder(x.out["Z"][:, key])
        if o["S"] is not None: hm = affine_warp(hm, o["S"])
    return heatmap_mse(hm, affine_warp(x.batch["target"][:, key], x.theta), x.batch["target_weight"][:, key])


def s_theta(x: LossInputs) -> torch.Tensor | None:
    "|S' - sg(S) θ|²: A(A(C, S), θ) = A(C, S θ), so the copy's S' is known from the original's."
    if x.out.get("S") is None: return None
    return ((moved_outputs(x)["S"] - compose_affine(x.out["S"][:, x.key].detach(), x.theta)) ** 2).mean()


def _frame_error(S: torch.Tensor, points: torch.Tensor, visible: torch.Tensor, radius: float | None) -> torch.Tensor:
    "Mean squared difference between S (B, 2, 3) and the pose's frame, over the rows with enough visible joints."
    target, ok = pose_frame(points.float(), visible, radius)
    return (((S.float() - target) ** 2).mean((1, 2)) * ok).sum() / ok.sum().clamp_min(1)


def frame_box(x: LossInputs) -> torch.Tensor | None:
    "|S - crop_frame|² on the keyframe, and on the moved copy |S' - crop_frame θ|²: S told where the box's crop sits."
    if x.out.get("S") is None: return None
    if "crop_frame" not in x.batch: raise ValueError("loss term 'frame_box': the batch has no 'crop_frame' (PoseTrackClips gives it)")
    target = x.batch["crop_frame"].float()
    own = ((x.out["S"][:, x.key].float() - target) ** 2).mean()
    return own + ((moved_outputs(x)["S"].float() - compose_affine(target, x.theta.float())) ** 2).mean()


def frame_pose(x: LossInputs, radius: float | None = 0.5) -> torch.Tensor | None:
    "|S - pose_frame|² on every frame, and on the moved copy with the joints at θ^-1 p (moving the crop by θ moves what was at p there)."
    if x.out.get("S") is None: return None
    cfg = x.model.cfg
    pts, vis = heatmap_points(x.batch["keypoints"], cfg.input_size, cfg.heatmap_size)
    own = _frame_error(x.out["S"].flatten(0, 1), pts.flatten(0, 1), vis.flatten(0, 1), radius)
    inv = invert_warp(x.theta.float())
    p = pts[:, x.key] @ inv[:, :, :2].transpose(-1, -2) + inv[:, None, :, 2]
    return own + _frame_error(moved_outputs(x)["S"], p, vis[:, x.key] & (p.abs() <= 1).all(-1), radius)


def s_equivariance(x: LossInputs) -> torch.Tensor | None:
    "|S' - S θ|² in 3x3 homogeneous form, the original's S not held fixed."
    if x.out.get("S") is None: return None
    h = lambda m: torch.cat([m, m.new_tensor([0.0, 0.0, 1.0]).expand(m.shape[0], 1, 3)], 1)
    target = (h(x.out["S"][:, x.key].float()) @ h(x.theta.float()))[:, :2]
    return ((moved_outputs(x)["S"].float() - target) ** 2).mean()


register_loss_term("s_contrastive", s_contrastive)
register_loss_term("s_relative", s_relative)
register_loss_term("s_relative_fixed", lambda x: s_relative(x, fixed=True))
register_loss_term("hs", moved_heatmaps)
register_loss_term("hs_swapped", lambda x: moved_heatmaps(x, swapped=True))
register_loss_term("stheta", s_theta)
register_loss_term("frame_box", frame_box)
register_loss_term("frame_pose", frame_pose)
register_loss_term("frame_pose_position", lambda x: frame_pose(x, radius=None))
register_loss_term("s_equivariance", s_equivariance)
