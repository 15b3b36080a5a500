"""The invariance study's network options, registered with the core's registries (none is the paper's):
- `BlindPool` (E_Z pooling "blind"): N learned queries attend over the tokens, with no position embeddings;
- `CentroidPool` (E_S pooling "centroids"): E_S reads where learned attention maps over the token grid sit;
- `PositionMapsPool` (E_S pooling "positions"): E_S weighs its tokens by 4 learned maps over the grid, as E_Z does;
- `CanonicalSpace` (space "canonical"): E_Z reads the features moved back by S^-1, Z = E_Z(A(F, S^-1));
and the targets the frame terms hold S to: `pose_frame` and `heatmap_points`."""
from __future__ import annotations

import torch
from torch import nn

from cdpose.keypoints import input_to_heatmap_scale
from cdpose.semantic import (SemanticAlignmentSpace, SemanticConfig, affine_warp, invert_warp, register_latent_pooling,
                             register_space_variant, register_transform_pooling)


class BlindPool(nn.Module):
    "N learned queries attend over the tokens: a pooling that cannot tell where a token sits (it sees a set, not a grid)."
    sees_position = False
    def __init__(self, cfg: SemanticConfig):
        super().__init__()
        self.queries = nn.Parameter(torch.zeros(1, cfg.latents, cfg.dim)); nn.init.trunc_normal_(self.queries, std=0.02)
        self.norm, self.attn = nn.LayerNorm(cfg.dim), nn.MultiheadAttention(cfg.dim, cfg.heads, batch_first=True)
    def forward(self, x):                      # (B, T, d) -> (B, N, d)
        kv = self.norm(x)
        return self.attn(self.queries.expand(len(x), -1, -1), kv, kv, need_weights=False)[0]


class CentroidPool(nn.Module):
    "Soft-argmax pooling: `maps` attention maps over the token grid, each read as the mean and (co)variance of the grid's coordinates under it."
    head_norm = False
    def __init__(self, cfg: SemanticConfig, maps: int = 8):
        super().__init__()
        self.logits, self.out_features = nn.Linear(cfg.dim, maps), 5 * maps
        ys, xs = [(torch.arange(n) * 2 + 1) / n - 1 for n in cfg.token_grid]   # token centres in affine_grid's normalised coordinates
        yy, xx = torch.meshgrid(ys, xs, indexing="ij")
        x, y = xx.flatten(), yy.flatten()
        self.register_buffer("moments", torch.stack([x, y, x * x, x * y, y * y], -1), persistent=False)   # (T, 5)
    def forward(self, tokens):                 # (B, T, d) -> (B, 5 * maps)
        m = self.logits(tokens).softmax(1).transpose(1, 2) @ self.moments      # (B, maps, 5): E[x], E[y], E[x²], E[xy], E[y²]
        mx, my = m[..., 0], m[..., 1]
        cov = m[..., 2:] - torch.stack([mx * mx, mx * my, my * my], -1)
        return torch.cat([m[..., :2], cov], -1).flatten(1)


class PositionMapsPool(nn.Module):
    "E_S's tokens weighed by 4 learned maps over the token grid (as E_Z pools), concatenated: (B, T, d) -> (B, 4 d)."
    head_norm = True
    def __init__(self, cfg: SemanticConfig, maps: int = 4):
        super().__init__()
        self.positions, self.out_features = nn.Linear(cfg.token_grid[0] * cfg.token_grid[1], maps), maps * cfg.dim
    def forward(self, x):
        return self.positions(x.transpose(1, 2)).flatten(1)


class CanonicalSpace(SemanticAlignmentSpace):
    "The space with E_Z reading F moved back by its S: Z = E_Z(A(F, S^-1)), so that where the person is must come from S."
    def encode(self, f, S: torch.Tensor | None = None) -> torch.Tensor:
        if self.transform_encoder is None: return self.semantic_encoder(f)
        return self.semantic_encoder(affine_warp(f, invert_warp(self.transform_encoder(f) if S is None else S)))


def pose_frame(points: torch.Tensor, visible: torch.Tensor, radius: float | None = 0.5, min_joints: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """The pose's own frame as a transform of A (B, 2, 3): S that moves the visible joints `points` (B, K, 2, in affine_grid's
    coordinates) to a canonical frame where their centroid is 0 and their RMS radius `radius` (`radius=None`: translation only);
    and which rows have `min_joints` visible (B,)."""
    w = visible.to(points.dtype)
    n = w.sum(1).clamp_min(1)
    mu = (points * w[..., None]).sum(1) / n[:, None]
    rms = ((((points - mu[:, None]) ** 2).sum(-1) * w).sum(1) / n).sqrt()
    k = torch.ones_like(rms) if radius is None else radius / rms.clamp_min(radius / 4)   # at most 4x: a few joints close together say little of the scale
    zero = torch.zeros_like(k)
    S = torch.stack([torch.stack([k, zero, -k * mu[:, 0]], -1), torch.stack([zero, k, -k * mu[:, 1]], -1)], 1)
    return S, w.sum(1) >= min_joints


def heatmap_points(keypoints: torch.Tensor, input_size: tuple[int, int], heatmap_size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    "Keypoints (..., K, 3) in crop pixels -> their heatmap positions in affine_grid's coordinates (..., K, 2), and which are visible."
    u = keypoints[..., :2] * keypoints.new_tensor(input_to_heatmap_scale(input_size, heatmap_size))   # heatmap pixels, as the targets
    return (2 * u + 1) / u.new_tensor(heatmap_size[::-1]) - 1, keypoints[..., 2] > 0


register_latent_pooling("blind", BlindPool)
register_transform_pooling("centroids", CentroidPool)
register_transform_pooling("positions", PositionMapsPool)
register_space_variant("canonical", CanonicalSpace)
