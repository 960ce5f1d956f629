"""lsutils.finetune on the CPU: every branch that is not CUDA-only (bf16 autocast, channels_last,
torch.compile with inductor, the fused optimiser) runs here at toy size, and an interrupted run
resumes to the bit-identical result."""

import dataclasses

import pytest
import torch

from lsutils import _store, cifar, finetune, profiles


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = cifar.write_synthetic_cifar10(
        tmp_path_factory.mktemp("c10"), n_train=160, n_test=20, seed=2
    )
    return cifar.load_cifar10(root, "train")


CFG = finetune.FinetuneConfig(
    alpha=0.1, model="tiny", pretrained=False, epochs=3, batch_size=32, lr=0.1
)


class Interrupt(Exception):
    pass


def _stop_after(n):
    def cb(epoch, state):
        if epoch + 1 == n:
            raise Interrupt

    return cb


def _same(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


@pytest.mark.parametrize(
    "variant",
    [
        dict(),
        dict(bf16=True),
        dict(channels_last=False),
        dict(optimizer="adamw", lr=1e-3),
    ],
    ids=["fp32-channels_last-fused_sgd", "bf16_autocast", "contiguous", "fused_adamw"],
)
def test_resume_after_interrupt_is_identical(data, tmp_path, variant):
    cfg = dataclasses.replace(CFG, **variant)
    x, y = data
    ref_model, ref_hist = finetune.train(cfg, x, y, device="cpu", progress=False)
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(Interrupt):
        finetune.train(
            cfg, x, y, device="cpu", checkpoint=ckpt, progress=False, on_epoch_end=_stop_after(1)
        )
    assert _store.load_torch(ckpt)["epoch"] == 1
    model, hist = finetune.train(cfg, x, y, device="cpu", checkpoint=ckpt, progress=False)
    assert hist.train_loss == ref_hist.train_loss and len(hist.train_loss) == 3
    assert hist.lr == ref_hist.lr
    assert _same(ref_model, model)
    # The training loss never goes below the floor of the smoothed loss.
    assert min(hist.train_loss) > finetune.loss_floor(10, cfg.alpha)


def test_optimiser_is_fused_on_the_cpu():
    model = finetune.build_model("tiny", 10, False)[0]
    opt = finetune.make_optimizer(model.parameters(), CFG, torch.device("cpu"))
    assert isinstance(opt, torch.optim.SGD) and opt.defaults["fused"] is True
    assert opt.defaults["nesterov"] is True and opt.defaults["momentum"] == CFG.momentum


def test_bf16_autocast_runs_the_forward_in_bfloat16(data):
    x, _ = data
    model = finetune.build_model("tiny", 10, False)[0]
    seen = []
    model.body[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    finetune.evaluate(model, x[:8], device="cpu", bf16=True)
    finetune.evaluate(model, x[:8], device="cpu", bf16=False)
    assert seen == [torch.bfloat16, torch.float32]


def test_compiled_training_matches_eager(data):
    """torch.compile (inductor, CPU) trains to the eager result within float tolerance."""
    x, y = data
    cfg = dataclasses.replace(CFG, epochs=1)
    eager, h_eager = finetune.train(cfg, x, y, device="cpu", progress=False)
    compiled, h_comp = finetune.train(
        dataclasses.replace(cfg, compile=True), x, y, device="cpu", progress=False
    )
    assert h_comp.train_loss == pytest.approx(h_eager.train_loss, rel=1e-3)
    for (k, a), b in zip(eager.state_dict().items(), compiled.state_dict().values(), strict=True):
        assert torch.allclose(a, b, atol=1e-3), k


def test_checkpoint_of_other_config_is_refused(data, tmp_path):
    x, y = data
    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(Interrupt):
        finetune.train(
            CFG, x[:64], y[:64], device="cpu", checkpoint=ckpt, progress=False,
            on_epoch_end=_stop_after(1),
        )  # fmt: skip
    other = dataclasses.replace(CFG, alpha=0.2)
    with pytest.raises(ValueError, match="another configuration"):
        finetune.train(other, x[:64], y[:64], device="cpu", checkpoint=ckpt, progress=False)


def test_corrupt_checkpoint_starts_over_with_a_warning(data, tmp_path):
    x, y = data
    ckpt = tmp_path / "run.ckpt"
    ckpt.write_bytes(b"garbage")
    cfg = dataclasses.replace(CFG, epochs=1)
    with pytest.warns(UserWarning, match="corrupt checkpoint"):
        finetune.train(cfg, x[:64], y[:64], device="cpu", checkpoint=ckpt, progress=False)


def test_class_count_is_explicit(data):
    x, y = data
    model, _ = finetune.train(
        dataclasses.replace(CFG, epochs=1), x[:64], y[:64] % 3, num_classes=3, device="cpu",
        progress=False,
    )  # fmt: skip
    assert model.fc.out_features == 3
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 2\]"):
        finetune.train(CFG, x[:64], y[:64], num_classes=3, device="cpu", progress=False)


@pytest.mark.parametrize(
    "bad",
    [dict(alpha=1.0), dict(alpha=-0.1), dict(alpha=True), dict(image_size=4), dict(pad=-1),
     dict(bf16="yes"), dict(epochs=0), dict(model="")],
)  # fmt: skip
def test_bad_configs(bad):
    with pytest.raises(ValueError):
        finetune.FinetuneConfig(**bad)


def test_bad_inputs():
    with pytest.raises(ValueError):
        finetune.build_model("not_a_model")
    with pytest.raises(ValueError, match="at least batch_size"):
        finetune.train(
            CFG, torch.zeros(8, 3, 32, 32, dtype=torch.uint8), torch.zeros(8, dtype=torch.long),
            progress=False,
        )  # fmt: skip
    with pytest.raises(ValueError, match="uint8"):
        finetune.train(CFG, torch.zeros(64, 3, 32, 32), torch.zeros(64, dtype=torch.long))


def test_build_model_labels_random_init(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.delenv("LSUTILS_ALLOW_DOWNLOAD", raising=False)
    model, weights = finetune.build_model("resnet18", 10, pretrained=True)
    assert weights.startswith("random init") and model.fc.out_features == 10


def test_evaluate_and_metrics(data):
    x, y = data
    model, _ = finetune.build_model("tiny", 10, pretrained=False)
    logits = finetune.evaluate(model, x[:50], device="cpu")
    assert logits.shape == (50, 10) and logits.dtype == torch.float32
    m = finetune.evaluation_metrics(logits, y[:50], 0.1)
    torch.testing.assert_close(
        torch.tensor(m["nll"]), torch.nn.functional.cross_entropy(logits, y[:50])
    )
    assert 0 <= m["ece"] <= 1 and m["optimal_gap"] == pytest.approx(
        finetune.optimal_logit_gap(10, 0.1)
    )


def test_sweep_caches_verified_results_without_local_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("LSUTILS_CACHE", str(tmp_path / "cache"))
    root = cifar.write_synthetic_cifar10(tmp_path / "c10", n_train=100, n_test=20)
    prof = dataclasses.replace(profiles.PROFILES["smoke"], train_size=64, test_size=20, epochs=1)
    first = finetune.run_sweep((0.0, 0.1), prof, root, model="tiny", device="cpu", progress=False)
    assert set(first.runs) == {0.0, 0.1} and first.provenance["data_source"] == "synthetic"
    assert str(tmp_path) not in repr(first.provenance)
    again = finetune.run_sweep((0.0, 0.1), prof, root, model="tiny", device="cpu", progress=False)
    assert again.runs == first.runs
    assert all(torch.equal(again.logits[a], first.logits[a]) for a in first.logits)
