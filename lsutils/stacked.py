"""Several small MLPs trained at once: seeds and settings as one batched model.

A comparison over five seeds and three settings needs fifteen tiny networks. Trained one after the
other, each step of each network pays Python's and autograd's fixed cost; stacked, the fifteen
share one step. :class:`StackedSmallMLP` holds ``M`` networks of the shape of
:func:`lsutils.models.small_mlp` as stacked weight tensors and evaluates them with batched matrix
products (``torch.baddbmm``): input ``[M, B, d_in]``, output ``[M, B, d_out]``. Member ``m`` starts
from the weights that ``small_mlp`` draws under ``torch.manual_seed(seeds[m])`` (the global
random state is left untouched), so two members with
the same seed start identically: a paired comparison of settings.

Adam updates every parameter element by element, so one Adam over the stacked tensors, applied to
the *sum* of the members' losses, trains each member exactly as its own Adam would.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ._validate import check_int
from .loop import seeded_init
from .models import small_mlp

__all__ = ["StackedSmallMLP"]


class StackedSmallMLP(nn.Module):
    """``len(seeds)`` MLPs ``d_in -> hidden (ReLU) x depth -> d_out``, evaluated together."""

    def __init__(
        self, d_in: int, d_out: int, seeds: Sequence[int], hidden: int = 64, depth: int = 2
    ) -> None:
        super().__init__()
        seeds = [check_int(s, "seed", 0) for s in seeds]
        if not seeds:
            raise ValueError("seeds must name at least one member")
        nets = [seeded_init(lambda: small_mlp(d_in, d_out, hidden, depth), s) for s in seeds]
        self._stack(nets)

    @classmethod
    def from_networks(cls, nets: Sequence[nn.Sequential]) -> StackedSmallMLP:
        """Stack copies of the weights of ``nets``, :func:`~lsutils.models.small_mlp` networks of
        one shape."""
        self = cls.__new__(cls)
        nn.Module.__init__(self)
        self._stack(list(nets))
        return self

    def _stack(self, nets: list[nn.Sequential]) -> None:
        layers = [[m for m in net if isinstance(m, nn.Linear)] for net in nets]
        shapes = {tuple(tuple(layer.weight.shape) for layer in ls) for ls in layers}
        if not nets or len(shapes) != 1 or not layers[0]:
            raise ValueError("need at least one network, all of the same layer shapes")
        depth = len(layers[0])
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].weight.detach().T for ls in layers]).contiguous())
            for i in range(depth)
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([ls[i].bias.detach()[None] for ls in layers]).contiguous())
            for i in range(depth)
        )
        self.num_members = len(nets)
        self.d_in, self.d_out = layers[0][0].in_features, layers[0][-1].out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x [M, B, d_in]`` (or ``[B, d_in]``, shared by all members) to ``[M, B, d_out]``."""
        if x.dim() == 2:
            x = x.expand(self.num_members, *x.shape)
        if x.dim() != 3 or x.shape[0] != self.num_members or x.shape[2] != self.d_in:
            raise ValueError(
                f"x must be [{self.num_members}, B, {self.d_in}] or [B, {self.d_in}], "
                f"got {tuple(x.shape)}"
            )
        h = x
        last = len(self.weights) - 1
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(b, h, w)
            if i < last:
                h = h.relu()
        return h

    @torch.no_grad()
    def member(self, m: int) -> nn.Sequential:
        """Member ``m`` as a plain :func:`~lsutils.models.small_mlp` (a copy of its weights)."""
        m = check_int(m, "m", 0)
        if m >= self.num_members:
            raise ValueError(f"m must be < {self.num_members}, got {m}")
        depth = len(self.weights) - 1
        hidden = self.weights[0].shape[2]
        net = small_mlp(self.d_in, self.d_out, hidden, depth)
        linears = [layer for layer in net if isinstance(layer, nn.Linear)]
        for layer, w, b in zip(linears, self.weights, self.biases, strict=True):
            layer.weight.copy_(w[m].T)
            layer.bias.copy_(b[m, 0])
        return net.eval()
