"""A tiny character-level language model: an MLP on the previous ``context`` characters.

The corpus is built from docstrings that ship with Python's standard library, so nothing is
downloaded. Used to measure what label smoothing does to perplexity and next-character accuracy
(Vaswani et al., 2017 report that it hurts perplexity but helps accuracy and BLEU).
"""

from __future__ import annotations

import importlib
import inspect
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .losses import smoothed_cross_entropy

__all__ = [
    "stdlib_corpus",
    "Vocabulary",
    "context_windows",
    "CharMLP",
    "train_char_mlp",
    "evaluate_char_model",
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
    only)."""
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

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return torch.tensor([index[c] for c in text], dtype=torch.long)
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the vocabulary") from None


def context_windows(ids: torch.Tensor, context: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Inputs ``[N, context]`` (the previous characters) and next-character targets ``[N]``."""
    if context < 1 or ids.dim() != 1 or ids.numel() <= context:
        raise ValueError(
            f"need 1-D ids longer than context >= 1, got {tuple(ids.shape)} and context={context}"
        )
    windows = ids.unfold(0, context + 1, 1)
    return windows[:, :context].contiguous(), windows[:, context].contiguous()


class CharMLP(torch.nn.Module):
    """Embed each of the ``context`` previous characters, concatenate, one hidden layer, logits over
    the vocabulary."""

    def __init__(self, vocab_size: int, context: int, embed: int = 24, hidden: int = 256):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab_size, embed)
        self.hidden = torch.nn.Linear(context * embed, hidden)
        self.head = torch.nn.Linear(hidden, vocab_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.tanh(self.hidden(self.embed(x).flatten(1))))


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
    ``alpha``)."""
    if not 0.0 <= alpha < 1.0:
        raise ValueError(f"alpha must lie in [0, 1), got {alpha}")
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
    with torch.no_grad():
        logits = model(x)
    nll = float(F.cross_entropy(logits, y))
    return {
        "nll": nll,
        "perplexity": math.exp(nll),
        "accuracy": float((logits.argmax(1) == y).float().mean()),
    }
