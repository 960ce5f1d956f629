"""A tiny character-level language model: an MLP on the previous ``context`` characters.

The corpus is built from docstrings that ship with Python's standard library, so nothing is
downloaded. Used to measure what label smoothing does to perplexity and next-character accuracy
(Vaswani et al., 2017 report that it hurts perplexity but helps accuracy and BLEU).
"""

from __future__ import annotations

import importlib
import inspect
import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ._validate import check_alpha, check_float, check_int, check_labels
from .calibration import expected_calibration_error
from .loop import num_threads, seeded_init
from .losses import smoothed_cross_entropy

__all__ = [
    "stdlib_corpus",
    "Vocabulary",
    "context_windows",
    "CharMLP",
    "train_char_mlp",
    "evaluate_char_model",
    "StackedCharMLP",
    "train_char_mlps",
    "evaluate_char_models",
]

CORPUS_MODULES = (
    "re",
    "json",
    "textwrap",
    "string",
    "functools",
    "itertools",
    "collections",
    "heapq",
    "bisect",
    "random",
    "statistics",
    "fractions",
    "pathlib",
    "argparse",
    "datetime",
    "inspect",
    "typing",
)


def stdlib_corpus(modules: tuple[str, ...] = CORPUS_MODULES, max_chars: int | None = None) -> str:
    """Module, class and function docstrings of some standard-library modules, joined (ASCII
    only), cut to ``max_chars`` characters if given."""
    if isinstance(modules, str) or not all(isinstance(m, str) for m in modules):
        raise ValueError(f"modules must be a tuple of module names, got {modules!r}")
    if max_chars is not None:
        max_chars = check_int(max_chars, "max_chars", 1)
    parts: list[str] = []
    for name in modules:
        module = importlib.import_module(name)
        docs = [inspect.getdoc(module)]
        for attr in sorted(getattr(module, "__all__", None) or dir(module)):
            if attr.startswith("_"):
                continue
            obj = getattr(module, attr, None)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and getattr(
                obj, "__module__", None
            ) == name:
                docs.append(inspect.getdoc(obj))
        parts.extend(d for d in docs if d)
    text = "\n\n".join(parts).encode("ascii", "ignore").decode("ascii")
    return text[:max_chars] if max_chars else text


@dataclass(frozen=True)
class Vocabulary:
    """The sorted characters of a text; ``encode`` maps text to int64 ids."""

    chars: str

    def __post_init__(self) -> None:
        if not isinstance(self.chars, str) or not self.chars:
            raise ValueError(f"chars must be a non-empty string, got {self.chars!r}")
        if len(set(self.chars)) != len(self.chars):
            raise ValueError("chars must not repeat a character (one id per character)")

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The vocabulary of a non-empty ``text``."""
        if not isinstance(text, str) or not text:
            raise ValueError(f"text must be a non-empty string, got {text!r:.40}")
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """int64 ids ``[len(text)]`` of the characters of ``text``."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a string, got {type(text).__name__}")
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return torch.tensor([index[c] for c in text], dtype=torch.long)
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the vocabulary") from None


def context_windows(ids: torch.Tensor, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``[N, context]`` (the previous characters) and next-character targets ``[N]``."""
    context = check_int(context, "context", 1)
    ids = check_labels(ids, 0, check_range=False, name="ids")
    if ids.numel() <= context:
        raise ValueError(
            f"ids must be longer than context={context} (one window at least), "
            f"got {ids.numel()} ids"
        )
    windows = ids.unfold(0, context + 1, 1)
    return windows[:, :context].contiguous(), windows[:, context].contiguous()


class CharMLP(torch.nn.Module):
    """Embed each of the ``context`` previous characters, concatenate, one hidden layer, logits over
    the vocabulary."""

    def __init__(self, vocab_size: int, context: int, embed: int = 24, hidden: int = 256):
        super().__init__()
        vocab_size = check_int(vocab_size, "vocab_size", 2)
        context, embed = check_int(context, "context", 1), check_int(embed, "embed", 1)
        hidden = check_int(hidden, "hidden", 1)
        self.embed = torch.nn.Embedding(vocab_size, embed)
        self.hidden = torch.nn.Linear(context * embed, hidden)
        self.head = torch.nn.Linear(hidden, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.hidden(self.embed(x).flatten(1))))


def _check_windows(
    x: torch.Tensor, y: torch.Tensor, vocab_size: int | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Character ids: windows ``x [N, context]`` and next characters ``y [N]``, N >= 1."""
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[0] == 0:
        got = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a tensor of character windows [N, context], N >= 1, got {got}")
    if x.dtype.is_floating_point or x.dtype.is_complex or x.dtype == torch.bool:
        raise ValueError(f"x must hold integer character ids, got dtype {x.dtype}")
    check_range = vocab_size is not None
    y = check_labels(y, vocab_size or 0, check_range=check_range, name="y")
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"y must hold one id per window: {x.shape[0]} windows, {y.shape[0]} ids")
    check_labels(x.flatten(), vocab_size or 0, check_range=check_range, name="x")
    return x, y


def train_char_mlp(
    x: torch.Tensor,
    y: torch.Tensor,
    vocab_size: int,
    *,
    alpha: float = 0.0,
    steps: int = 2000,
    batch_size: int = 256,
    lr: float = 3e-3,
    seed: int = 0,
    **model_kwargs: int,
) -> CharMLP:
    """Adam on minibatches of ``(x, y)`` with :func:`lsutils.smoothed_cross_entropy` (uniform
    ``alpha`` in [0, 1): at 1 the targets carry no label)."""
    alpha = check_alpha(alpha, negative_hint="train_char_mlp takes alpha in [0, 1)")
    if alpha == 1.0:
        raise ValueError("alpha must lie in [0, 1) (alpha = 1 makes every target uniform), got 1")
    vocab_size = check_int(vocab_size, "vocab_size", 2)
    x, y = _check_windows(x, y, vocab_size)
    steps = check_int(steps, "steps", 0)
    batch_size = check_int(batch_size, "batch_size", 1)
    lr = check_float(lr, "lr", 0.0, low_open=True)
    seed = check_int(seed, "seed", 0)
    torch.manual_seed(seed)
    model = CharMLP(vocab_size, x.shape[1], **model_kwargs)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        idx = torch.randint(x.shape[0], (batch_size,), generator=gen)
        loss = smoothed_cross_entropy(model(x[idx]), y[idx], alpha, validate=False)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def evaluate_char_model(
    model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor
) -> dict[str, float]:
    """Validation NLL (nats per character, against the one-hot truth), perplexity ``exp(NLL)``,
    accuracy."""
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    vocab_size = getattr(getattr(model, "head", None), "out_features", None)
    x, y = _check_windows(x, y, vocab_size)
    with torch.no_grad():
        logits = model(x)
    if logits.dim() != 2 or logits.shape[0] != y.shape[0]:
        raise ValueError(f"model(x) must give logits [{y.shape[0]}, V], got {tuple(logits.shape)}")
    check_labels(y, logits.shape[1], name="y")
    nll = float(F.cross_entropy(logits, y))
    return {
        "nll": nll,
        "perplexity": math.exp(nll),
        "accuracy": float((logits.argmax(1) == y).float().mean()),
    }


class StackedCharMLP(torch.nn.Module):
    """Several :class:`CharMLP` of the same shape evaluated together: ids ``[B, context]`` (shared)
    or ``[M, B, context]`` to logits ``[M, B, V]``.

    Member ``m`` starts from the weights ``CharMLP`` draws under ``torch.manual_seed(seeds[m])``.
    """

    def __init__(
        self,
        vocab_size: int,
        context: int,
        seeds: Sequence[int],
        embed: int = 24,
        hidden: int = 256,
    ) -> None:
        super().__init__()
        seeds = [check_int(s, "seed", 0) for s in seeds]
        if not seeds:
            raise ValueError("seeds must name at least one member")
        nets = [seeded_init(lambda: CharMLP(vocab_size, context, embed, hidden), s) for s in seeds]

        def stack(get) -> torch.nn.Parameter:
            return torch.nn.Parameter(torch.stack([get(n).detach() for n in nets]).contiguous())

        self.embed = stack(lambda n: n.embed.weight)  # [M, V, E]
        self.w1 = stack(lambda n: n.hidden.weight.T)  # [M, C*E, H]
        self.b1 = stack(lambda n: n.hidden.bias[None])
        self.w2 = stack(lambda n: n.head.weight.T)  # [M, H, V]
        self.b2 = stack(lambda n: n.head.bias[None])
        self.num_members = len(seeds)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            x = x.expand(self.num_members, *x.shape)
        if x.dim() != 3 or x.shape[0] != self.num_members:
            raise ValueError(f"x must be [B, context] or [{self.num_members}, B, context]")
        rows = torch.arange(self.num_members)[:, None, None]
        e = self.embed[rows, x].flatten(2)  # [M, B, C*E]
        h = torch.tanh(torch.baddbmm(self.b1, e, self.w1))
        return torch.baddbmm(self.b2, h, self.w2)


def _check_ids(x: torch.Tensor, vocab_size: int) -> None:
    if not isinstance(x, torch.Tensor) or x.dtype.is_floating_point or x.dtype == torch.bool:
        raise ValueError("x must be an integer tensor of character ids [N, context]")
    if x.numel() and (int(x.min()) < 0 or int(x.max()) >= vocab_size):
        raise ValueError(f"x must hold character ids in [0, {vocab_size - 1}]")


@num_threads(1)  # tiny networks: more threads only add overhead
def train_char_mlps(
    x: torch.Tensor,
    y: torch.Tensor,
    vocab_size: int,
    alphas: Sequence[float],
    seeds: Sequence[int],
    *,
    steps: int = 2000,
    batch_size: int = 256,
    lr: float = 3e-3,
    **model_kwargs: int,
) -> StackedCharMLP:
    """One character model per (alpha, seed), trained together; member ``i * len(seeds) + j`` has
    ``alphas[i]`` and ``seeds[j]``.

    Each member is trained as :func:`train_char_mlp` with that alpha and seed trains one (same
    initial weights, same minibatches, Adam on the uniform-convention smoothed cross-entropy), up to
    floating-point rounding; members that share a seed differ only in alpha (a paired comparison).
    """
    alphas = [check_float(a, "alpha", 0.0, 1.0, high_open=True) for a in alphas]
    seeds = [check_int(s, "seed", 0) for s in seeds]
    if not alphas or len(set(seeds)) != len(seeds) or not seeds:
        raise ValueError("need at least one alpha and distinct seeds")
    if x.dim() != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"need x [N, context] and y [N], got {tuple(x.shape)}, {tuple(y.shape)}")
    vocab_size = check_int(vocab_size, "vocab_size", 2)
    _check_ids(x, vocab_size)
    y = check_labels(y, vocab_size)
    steps, batch_size = check_int(steps, "steps", 1), check_int(batch_size, "batch_size", 1)
    model = StackedCharMLP(vocab_size, x.shape[1], seeds * len(alphas), **model_kwargs)
    opt = torch.optim.Adam(model.parameters(), lr=check_float(lr, "lr", 0.0, low_open=True))
    alpha = torch.tensor(alphas).repeat_interleave(len(seeds))[:, None]  # [M, 1]
    gens = [torch.Generator().manual_seed(s) for s in seeds]
    for _ in range(steps):
        idx = torch.stack([torch.randint(x.shape[0], (batch_size,), generator=g) for g in gens])
        idx = idx.repeat(len(alphas), 1)  # [M, B]
        log_q = F.log_softmax(model(x[idx]), dim=-1)
        nll = -log_q.gather(-1, y[idx][..., None]).squeeze(-1)
        loss = ((1.0 - alpha) * nll - alpha * log_q.mean(dim=-1)).mean(dim=1).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()


def evaluate_char_models(
    model: StackedCharMLP, x: torch.Tensor, y: torch.Tensor, n_bins: int = 15
) -> list[dict[str, float]]:
    """Per member: NLL (nats per character), perplexity, accuracy and the ECE (``n_bins``
    equal-width bins) of its top next-character probability, on ``(x, y)``."""
    if not isinstance(model, StackedCharMLP):
        raise ValueError(f"model must be a StackedCharMLP, got {type(model).__name__}")
    vocab_size = model.embed.shape[1]
    _check_ids(x, vocab_size)
    y = check_labels(y, vocab_size)
    with torch.no_grad():
        logits = model(x)
    out = []
    for z in logits:
        nll = float(F.cross_entropy(z, y))
        out.append(
            {
                "nll": nll,
                "perplexity": math.exp(nll),
                "accuracy": float((z.argmax(1) == y).float().mean()),
                "ece": expected_calibration_error(z.softmax(dim=1), y, n_bins),
            }
        )
    return out
