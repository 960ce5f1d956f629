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

__all__ = ["StackedLinears", "StackedSmallMLP"]


class StackedLinears(nn.Module):
    """``M`` chains of ``nn.Linear`` layers of one shape, with ReLU between layers, evaluated
    together: ``x [M, B, ...]`` (flattened to ``[M, B, d_in]``) or ``[B, d_in]`` (shared by all
    members) to ``[M, B, d_out]``.

    Layer ``i``'s weights are stored transposed and stacked, ``weights[i] [M, d_i, d_{i+1}]``, and
    its biases as ``biases[i] [M, 1, d_{i+1}]``, so a forward pass is one ``baddbmm`` per layer.
    The subclasses say where the chains come from and go back to.
    """

    def __init__(self, chains: Sequence[Sequence[nn.Linear]]) -> None:
        super().__init__()
        chains = [list(c) for c in chains]
        shapes = {tuple(tuple(layer.weight.shape) for layer in c) for c in chains}
        if not chains or len(shapes) != 1 or not chains[0]:
            raise ValueError("need at least one network, all of the same layer shapes")
        depth = len(chains[0])
        self.weights = nn.ParameterList(
            nn.Parameter(torch.stack([c[i].weight.detach().T for c in chains]).contiguous())
            for i in range(depth)
        )
        self.biases = nn.ParameterList(
            nn.Parameter(torch.stack([c[i].bias.detach()[None] for c in chains]).contiguous())
            for i in range(depth)
        )
        self.num_members = len(chains)
        self.d_in, self.d_out = chains[0][0].in_features, chains[0][-1].out_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.expand(self.num_members, *x.shape)
        elif x.dim() > 3:
            x = x.flatten(2)
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
    def write_chain(self, m: int, chain: Sequence[nn.Linear]) -> None:
        """Copy member ``m``'s weights into the layers of ``chain`` (same shapes)."""
        m = check_int(m, "m", 0)
        if m >= self.num_members:
            raise ValueError(f"m must be < {self.num_members}, got {m}")
        chain = list(chain)
        if len(chain) != len(self.weights):
            raise ValueError(f"chain must have {len(self.weights)} layers, got {len(chain)}")
        for layer, w, b in zip(chain, self.weights, self.biases, strict=True):
            layer.weight.copy_(w[m].T)
            layer.bias.copy_(b[m, 0])


def _linears(net: nn.Sequential) -> list[nn.Linear]:
    return [m for m in net if isinstance(m, nn.Linear)]


class StackedSmallMLP(StackedLinears):
    """``len(seeds)`` MLPs ``d_in -> hidden (ReLU) x depth -> d_out``, evaluated together."""

    def __init__(
        self, d_in: int, d_out: int, seeds: Sequence[int], hidden: int = 64, depth: int = 2
    ) -> None:
        seeds = [check_int(s, "seed", 0) for s in seeds]
        if not seeds:
            raise ValueError("seeds must name at least one member")
        nets = [seeded_init(lambda: small_mlp(d_in, d_out, hidden, depth), s) for s in seeds]
        super().__init__([_linears(n) for n in nets])

    @classmethod
    def from_networks(cls, nets: Sequence[nn.Sequential]) -> StackedSmallMLP:
        """Stack copies of the weights of ``nets``, :func:`~lsutils.models.small_mlp` networks of
        one shape."""
        self = cls.__new__(cls)
        StackedLinears.__init__(self, [_linears(n) for n in nets])
        return self

    @torch.no_grad()
    def member(self, m: int) -> nn.Sequential:
        """Member ``m`` as a plain :func:`~lsutils.models.small_mlp` (a copy of its weights)."""
        net = small_mlp(self.d_in, self.d_out, self.weights[0].shape[2], len(self.weights) - 1)
        self.write_chain(m, _linears(net))
        return net.eval()
