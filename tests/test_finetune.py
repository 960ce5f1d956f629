"""lsutils.finetune: resume after an interruption gives exactly the uninterrupted result."""

import pytest
import torch

from lsutils import cifar, finetune


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
    def cb(epoch, history):
        if epoch + 1 == n:
            raise Interrupt

    return cb


def test_resume_after_interrupt_is_identical(data, tmp_path):
    x, y = data
    ref_model, ref_hist = finetune.train(CFG, x, y, device="cpu", progress=False)
    ckpt = tmp_path / "run.pt"
    with pytest.raises(Interrupt):
        finetune.train(
            CFG, x, y, device="cpu", checkpoint=ckpt, progress=False, on_epoch_end=_stop_after(1)
        )
    assert torch.load(ckpt, weights_only=False)["epoch"] == 1
    model, hist = finetune.train(CFG, x, y, device="cpu", checkpoint=ckpt, progress=False)
    assert hist["train_loss"] == ref_hist["train_loss"] and len(hist["train_loss"]) == 3
    assert hist["lr"] == ref_hist["lr"]
    ref_state, state = ref_model.state_dict(), model.state_dict()
    assert ref_state.keys() == state.keys()
    for k in ref_state:
        assert torch.equal(ref_state[k], state[k]), k
    # The training loss never goes below the floor of the smoothed loss.
    assert min(hist["train_loss"]) > finetune.loss_floor(10, CFG.alpha)


def test_checkpoint_of_other_config_is_refused(data, tmp_path):
    x, y = data
    ckpt = tmp_path / "run.pt"
    with pytest.raises(Interrupt):
        finetune.train(
            CFG,
            x[:64],
            y[:64],
            device="cpu",
            checkpoint=ckpt,
            progress=False,
            on_epoch_end=_stop_after(1),
        )
    other = finetune.FinetuneConfig(
        alpha=0.2, model="tiny", pretrained=False, epochs=3, batch_size=32
    )
    with pytest.raises(ValueError, match="another config"):
        finetune.train(other, x[:64], y[:64], device="cpu", checkpoint=ckpt, progress=False)


def test_bad_inputs():
    with pytest.raises(ValueError):
        finetune.FinetuneConfig(alpha=1.0)
    with pytest.raises(ValueError):
        finetune.build_model("not_a_model")
    with pytest.raises(ValueError):
        finetune.train(
            CFG, torch.zeros(8, 3, 32, 32), torch.zeros(8, dtype=torch.long), progress=False
        )


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
