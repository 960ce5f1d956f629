"""The training core on small synthetic data (no Fashion-MNIST needed): loop, ensemble, cache,
locks."""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import time
import warnings
from pathlib import Path

import pytest
import torch

import lsutils
from lsutils import _store, ensemble, loop
from lsutils import train as T
from lsutils.models import MLP, SmallCNN, make_model


def _synthetic(split: str):
    g = torch.Generator().manual_seed(0 if split == "train" else 1)
    n = 600 if split == "train" else 200
    y = torch.arange(n) % 10
    centers = torch.randn(10, 1, 28, 28, generator=torch.Generator().manual_seed(5))
    x = centers[y] + 0.8 * torch.randn(n, 1, 28, 28, generator=g)
    return x, y


def _use_synthetic(monkeypatch, tmp_path):
    monkeypatch.setenv("LSUTILS_CACHE", str(tmp_path))
    monkeypatch.setattr(T, "fashion_tensors", _synthetic)
    T._split.cache_clear()


@pytest.fixture
def fake_data(tmp_path, monkeypatch):
    _use_synthetic(monkeypatch, tmp_path)
    yield tmp_path
    T._split.cache_clear()


CFG = T.TrainConfig(epochs=3, batch_size=64, val_size=100)


def _same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def _max_diff(a, b) -> float:
    sa, sb = a.state_dict(), b.state_dict()
    return max(float((sa[k] - sb[k]).abs().max()) for k in sa)


# ------------------------------------------------------------------------------------ models, fit


def test_models_expose_features_and_head():
    x = torch.randn(5, 1, 28, 28)
    for model in (MLP(), SmallCNN(num_classes=3), make_model("mlp", 4), make_model("mlp", 3, 16)):
        logits = model(x)
        assert torch.allclose(model.head(model.features(x)), logits)
        assert isinstance(model.head, torch.nn.Linear)
    assert make_model("mlp", 3, hidden=16).head.in_features == 16
    with pytest.raises(ValueError, match="model must be one of"):
        make_model("resnet", 10)


def test_fit_is_reproducible_and_seed_dependent():
    x, y = _synthetic("train")
    runs = []
    for seed in (0, 0, 1):
        m = loop.seeded_init(MLP, seed)
        cfg = loop.FitConfig(alpha=0.1, epochs=2, batch_size=50, seed=seed)
        runs.append((m, loop.fit(m, (x, y), cfg, num_classes=10, progress=False, device="cpu")))
    assert runs[0][1].train_loss == runs[1][1].train_loss and _same_weights(runs[0][0], runs[1][0])
    assert runs[0][1].train_loss != runs[2][1].train_loss


def test_seeded_init_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.get_rng_state()
    loop.seeded_init(MLP, 7)
    assert torch.equal(before, torch.get_rng_state())


def test_history_learns_and_stays_above_the_floor():
    x, y = _synthetic("train")
    h = loop.fit(
        loop.seeded_init(MLP, 0), (x, y), loop.FitConfig(alpha=0.1, epochs=4, batch_size=50),
        num_classes=10, progress=False,
    )  # fmt: skip
    floor = lsutils.loss_floor(10, 0.1)
    assert h.train_loss[-1] < h.train_loss[0] and h.train_accuracy[-1] > 0.9
    assert min(h.excess_loss(floor)) > 0  # the smoothed loss never goes below its floor
    assert len(h.lr) == len(h.epoch_seconds) == 4 and h.lr[-1] == pytest.approx(0.0, abs=1e-12)


def test_fit_accepts_target_rows_and_rejects_alpha_with_them():
    x, y = _synthetic("train")
    targets = lsutils.smooth_targets(y, 10, 0.2)
    h = loop.fit(
        MLP(),
        (x, targets),
        loop.FitConfig(epochs=2, batch_size=100),
        num_classes=10,
        progress=False,
    )
    assert min(h.train_loss) > lsutils.loss_floor(10, 0.2)
    with pytest.raises(ValueError, match="alpha=0"):
        loop.fit(MLP(), (x, targets), loop.FitConfig(alpha=0.1), num_classes=10, progress=False)


@pytest.mark.parametrize(
    "labels, match",
    [
        (lambda y: torch.where(y == 3, -100, y), r"labels must lie in \[0, 9\]"),
        (lambda y: y + 1, r"labels must lie in \[0, 9\]"),
        (lambda y: y.float(), "integer tensor"),
        (lambda y: y[:-1], "same non-zero number of rows"),
    ],
)
def test_fit_rejects_bad_labels_up_front(labels, match):
    x, y = _synthetic("train")
    with pytest.raises(ValueError, match=match):
        loop.fit(MLP(), (x, labels(y)), loop.FitConfig(epochs=1), num_classes=10, progress=False)


def test_fit_checks_the_class_count_against_the_model():
    x, y = _synthetic("train")
    with pytest.raises(ValueError, match="outputs 4 logits, num_classes is 10"):
        loop.fit(
            MLP(num_classes=4), (x, y), loop.FitConfig(epochs=1), num_classes=10, progress=False
        )


def test_schedule_with_warmup():
    cfg = loop.FitConfig(warmup_frac=0.25)
    factors = [loop.lr_factor(s, 8, cfg) for s in range(8)]
    assert factors[:2] == [0.5, 1.0] and factors[2] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[1:], factors[2:], strict=False))
    assert loop.lr_factor(5, 8, dataclasses.replace(cfg, schedule="constant")) == 1.0


def _interrupt_after(epoch_to_stop):
    def hook(epoch, state):
        if epoch == epoch_to_stop:
            raise KeyboardInterrupt

    return hook


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_checkpoint_resume_is_bit_identical(tmp_path, optimizer):
    x, y = _synthetic("train")
    cfg = loop.FitConfig(alpha=0.1, epochs=3, batch_size=64, optimizer=optimizer, lr=1e-2)
    ref = loop.seeded_init(MLP, 0)
    href = loop.fit(ref, (x, y), cfg, num_classes=10, progress=False)

    ckpt = tmp_path / "run.ckpt"
    model = loop.seeded_init(MLP, 0)
    opt = loop.make_optimizer(model.parameters(), cfg, torch.device("cpu"))
    steps = cfg.epochs * loop.steps_per_epoch(len(x), cfg)
    state = loop.LoopState(
        model, opt, loop.make_scheduler(opt, cfg, steps),
        [torch.Generator().manual_seed(cfg.seed)], [loop.History()],
    )  # fmt: skip
    step = loop.batch_step(loop._Single(model), x, y[None], [cfg], 10)
    with pytest.raises(KeyboardInterrupt):
        loop.run_epochs(
            state, step, len(x), cfg, device=torch.device("cpu"), checkpoint=ckpt,
            progress=False, on_epoch_end=_interrupt_after(0),
        )  # fmt: skip
    assert ckpt.is_file()
    resumed = loop.seeded_init(MLP, 5)  # different init: everything must come from the checkpoint
    h = loop.fit(resumed, (x, y), cfg, num_classes=10, progress=False, checkpoint=ckpt)
    assert h.train_loss == href.train_loss and _same_weights(ref, resumed)
    with pytest.raises(ValueError, match="another configuration"):
        loop.fit(MLP(), (x, y), dataclasses.replace(cfg, lr=0.5), num_classes=10, checkpoint=ckpt)


# -------------------------------------------------------------------------------------- configs


@pytest.mark.parametrize(
    "bad",
    [
        dict(model="vit"), dict(alpha=1.5), dict(alpha=-0.1), dict(alpha=True), dict(alpha="0.1"),
        dict(classes=(1,)), dict(classes=(1, 1)), dict(classes=(0, 10)), dict(optimizer="x"),
        dict(epochs=1.5), dict(epochs="3"), dict(epochs=0), dict(batch_size=0), dict(train_size=0),
        dict(lr=float("inf")), dict(lr=0.0), dict(lr=-1e-3), dict(weight_decay=-1.0),
        dict(schedule="step"), dict(warmup_frac=1.0), dict(val_size=60000), dict(label_noise=1.5),
        dict(seed=-1), dict(seed=0.5), dict(hidden=0), dict(allow_negative=1),
    ],
)  # fmt: skip
def test_bad_configs_raise_value_errors(bad):
    with pytest.raises(ValueError):
        T.TrainConfig(**bad)


def test_numpy_numbers_are_accepted():
    np = pytest.importorskip("numpy")
    cfg = T.TrainConfig(epochs=np.int64(3), alpha=np.float64(0.1), seed=np.int32(2))
    assert (cfg.epochs, cfg.alpha, cfg.seed) == (3, 0.1, 2) and type(cfg.epochs) is int


def test_cache_key_covers_every_field():
    keys = {T.config_key(CFG)}
    changes = dict(
        model="cnn", hidden=32, alpha=0.1, convention="others", epochs=4, batch_size=32, lr=2e-3,
        weight_decay=1e-4, optimizer="sgd", momentum=0.5, schedule="constant", warmup_frac=0.1,
        drop_last=True, seed=3, train_size=100, classes=(0, 1), label_noise=0.1,
        allow_negative=True, val_size=50, noise_correction=0.2, temperature=2.0,
    )  # fmt: skip
    assert set(changes) == {f.name for f in dataclasses.fields(T.TrainConfig)}
    for name, value in changes.items():
        keys.add(T.config_key(dataclasses.replace(CFG, **{name: value})))
    assert len(keys) == len(changes) + 1
    assert T.config_key(dataclasses.replace(CFG, classes=[0, 1])) == T.config_key(
        dataclasses.replace(CFG, classes=(0, 1))
    )


def test_config_data_splits_and_relabels(fake_data):
    cfg = dataclasses.replace(CFG, classes=(7, 2), train_size=50)
    x, y = T.config_data(cfg, "train")
    assert len(y) == 50 and set(y.tolist()) <= {0, 1}
    xv, yv = T.config_data(CFG, "val")
    xt, _ = T.config_data(CFG, "train")
    assert len(yv) == 100 and len(xt) == 500
    flat_v, flat_t = xv.flatten(1), xt.flatten(1)  # validation and training images are disjoint
    assert not any(torch.equal(flat_v[0], r) for r in flat_t)
    noisy = T.config_data(dataclasses.replace(CFG, label_noise=0.2), "train")[1]
    clean = T.config_data(dataclasses.replace(CFG, label_noise=0.2), "train", noisy=False)[1]
    assert (noisy != clean).float().mean().item() == pytest.approx(0.2, abs=0.01)
    with pytest.raises(ValueError, match="train_size must be at most 500"):
        T.config_data(dataclasses.replace(CFG, train_size=501))


# ------------------------------------------------------------------------------------- ensemble


def test_ensemble_members_match_sequential_training(fake_data):
    """Each member of a vectorised ensemble equals the same configuration trained on its own with
    fit: same init, data order, labels (here noisy) and smoothing, up to float rounding."""
    base = dataclasses.replace(CFG, epochs=2, train_size=300, label_noise=0.2)
    configs = [
        dataclasses.replace(base, seed=0, alpha=0.0),
        dataclasses.replace(base, seed=1, alpha=0.1),
        dataclasses.replace(base, seed=2, alpha=0.1, convention="others"),
        dataclasses.replace(base, seed=3, alpha=-0.1, allow_negative=True),
    ]
    together = T.train_many(configs, cache=False, progress=False)
    for cfg, member in zip(configs, together, strict=True):
        alone = T._new_model(cfg)
        h = loop.fit(alone, T.config_data(cfg), cfg.fit_config(), num_classes=10, progress=False)
        assert _max_diff(alone, member.model) < 1e-3, cfg
        assert h.train_loss == pytest.approx(member.history.train_loss, rel=1e-4)
        assert h.train_accuracy == pytest.approx(member.history.train_accuracy, abs=2 / 300)
        x_test, _ = T.config_data(cfg, "test")
        assert torch.allclose(T.predict_logits(alone, x_test), member.logits("test"), atol=1e-3)


def test_ensemble_members_may_not_differ_in_loop_settings():
    cfgs = [loop.FitConfig(seed=0), loop.FitConfig(seed=1, lr=0.1)]
    with pytest.raises(ValueError, match="may differ only in"):
        ensemble.fit_ensemble(
            [MLP(), MLP()], torch.randn(8, 784), [torch.zeros(8).long()] * 2, cfgs, num_classes=10
        )


def test_stacked_mlp_round_trip():
    models = [loop.seeded_init(lambda: MLP(hidden=8, num_classes=3), s) for s in range(3)]
    net = ensemble.StackedMLP(models)
    x = torch.randn(3, 5, 1, 28, 28)
    out = net(x)
    for s, m in enumerate(models):
        assert torch.allclose(out[s], m(x[s]), atol=1e-5)
    copies = [MLP(hidden=8, num_classes=3) for _ in range(3)]
    net.copy_to(copies)
    assert all(_same_weights(a, b) for a, b in zip(models, copies, strict=True))
    with pytest.raises(ValueError, match="same layer shapes"):
        ensemble.StackedMLP([MLP(hidden=8), MLP(hidden=9)])


def test_non_mlp_models_train_one_after_another(fake_data):
    cfgs = [dataclasses.replace(CFG, model="cnn", epochs=1, train_size=128, seed=s) for s in (0, 1)]
    together = T.train_many(cfgs, cache=False, progress=False)
    alone = T.train(cfgs[1], cache=False, progress=False)
    assert _same_weights(together[1].model, alone.model)


# ---------------------------------------------------------------------------------------- cache


def test_train_caches_and_reloads(fake_data, monkeypatch):
    first = T.train(CFG, progress=False)
    path = T.cache_path(CFG)
    assert path.exists() and path.parent == fake_data / "models"
    assert _store.load_torch(path)["config"] == CFG.canonical()

    def no_training(*args, **kwargs):
        raise AssertionError("should have loaded from the cache")

    monkeypatch.setattr(T, "_train_group", no_training)
    second = T.train(CFG, progress=False)
    assert _same_weights(first.model, second.model)
    assert second.history.to_dict() == first.history.to_dict()


def test_seeds_share_the_cache_with_single_runs(fake_data, monkeypatch):
    trained = []
    real = T._train_group
    monkeypatch.setattr(T, "_train_group", lambda cs, p: trained.append(len(cs)) or real(cs, p))
    T.train(dataclasses.replace(CFG, seed=1), progress=False)
    lsutils.seeds.train_seeds(CFG, seeds=(0, 1, 2), progress=False)
    assert trained == [1, 2]  # seed 1 came from the cache; seeds 0 and 2 trained together


def _flip_bits_in_a_tensor(path: Path) -> None:
    data = bytearray(path.read_bytes())
    weights = torch.cat([v.flatten() for v in _store.load_torch(path)["state_dict"].values()])
    needle = weights[100:102].numpy().tobytes()  # two float32s somewhere inside the first layer
    at = bytes(data).index(needle)
    data[at + 3] ^= 0x40  # an exponent bit of one weight
    path.write_bytes(bytes(data))


def test_flipped_bits_in_a_cached_tensor_are_detected_and_retrained(fake_data):
    reference = T.train(CFG, progress=False)
    path = T.cache_path(CFG)
    _flip_bits_in_a_tensor(path)
    with pytest.raises(_store.CorruptFileError, match="SHA-256"):
        _store.load_torch(path)
    with pytest.warns(UserWarning, match="retraining"):
        again = T.train(CFG, progress=False)
    assert _same_weights(reference.model, again.model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        T.train(CFG, progress=False)  # rewritten and intact: loads without a warning


@pytest.mark.parametrize("damage", [b"not a torch file", b""])
def test_foreign_or_empty_cache_files_are_retrained(fake_data, damage):
    path = T.cache_path(CFG)
    path.parent.mkdir(parents=True)
    path.write_bytes(damage)
    with pytest.warns(UserWarning, match="retraining"):
        T.train(CFG, progress=False)
    _store.load_torch(path)


def _train_in_child(cache: str, log: str, barrier) -> None:
    mp_patch = pytest.MonkeyPatch()
    _use_synthetic(mp_patch, Path(cache))
    real = T._train_group

    def logged(configs, progress):
        with open(log, "a") as fh:
            fh.write(f"{len(configs)}\n")
        time.sleep(1.0)  # so that the other process surely arrives while this one trains
        return real(configs, progress)

    T._train_group = logged
    barrier.wait()
    T.train(dataclasses.replace(CFG, epochs=8), progress=False)


def test_two_processes_train_the_same_config_once(tmp_path):
    ctx = mp.get_context("spawn")  # fork after torch started its threads can hang
    log = tmp_path / "trained.log"
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_train_in_child, args=(str(tmp_path), str(log), barrier))
             for _ in range(2)]  # fmt: skip
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert all(p.exitcode == 0 for p in procs)
    assert log.read_text().split() == ["1"]  # one process trained, the other waited and loaded


def test_cache_dir_rule(monkeypatch):
    monkeypatch.setenv("LSUTILS_CACHE", "")
    assert _store.cache_dir() == Path.home() / ".cache" / "lsutils"
    monkeypatch.setenv("LSUTILS_CACHE", "/tmp/x")
    assert _store.cache_dir() == Path("/tmp/x")
    monkeypatch.delenv("LSUTILS_CACHE")
    assert _store.cache_dir() == Path.home() / ".cache" / "lsutils"


def test_predict_logits_matches_forward():
    m = MLP()
    x = torch.randn(10, 1, 28, 28)
    out = T.predict_logits(m, x, batch_size=3)
    assert out.dtype == torch.float32 and torch.allclose(out, m(x), atol=1e-6)


# ------------------------------------------------------------------ other objectives in the loop


def test_noise_corrected_and_distillation_members_match_fit():
    """Forward-corrected members, and students trained on a teacher's target rows at temperature T,
    train in one ensemble exactly as they would on their own."""
    x, y = _synthetic("train")
    noisy = lsutils.data.symmetric_label_noise(y, 0.3, 10, seed=0)
    base = loop.FitConfig(epochs=2, batch_size=64)
    configs = [
        dataclasses.replace(base, seed=s, noise_correction=r) for s, r in ((0, 0.0), (1, 0.3))
    ]
    models = [loop.seeded_init(MLP, c.seed) for c in configs]
    ensemble.fit_ensemble(models, x, [noisy, noisy], configs, num_classes=10, progress=False)
    for c, m in zip(configs, models, strict=True):
        alone = loop.seeded_init(MLP, c.seed)
        loop.fit(alone, (x, noisy), c, num_classes=10, progress=False)
        assert _max_diff(alone, m) < 1e-3
    teacher = lsutils.smooth_targets(y, 10, 0.0) * 6.0  # teacher logits
    rows = [torch.softmax(teacher / t, 1) for t in (1.0, 4.0)]
    students = [dataclasses.replace(base, seed=2, temperature=t) for t in (1.0, 4.0)]
    models = [loop.seeded_init(MLP, 2) for _ in students]
    hist = ensemble.fit_ensemble(models, x, rows, students, num_classes=10, progress=False)
    for c, r, m, h in zip(students, rows, models, hist, strict=True):
        alone = loop.seeded_init(MLP, 2)
        ha = loop.fit(alone, (x, r), c, num_classes=10, progress=False)
        assert _max_diff(alone, m) < 1e-3 and ha.train_loss == pytest.approx(h.train_loss, rel=1e-4)


def test_member_losses_against_their_definitions():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(2, 5, 10, generator=g)
    y = torch.randint(0, 10, (2, 5), generator=g)
    cfgs = [loop.FitConfig(alpha=0.1), loop.FitConfig(noise_correction=0.2)]
    got = loop.member_losses(z, y, cfgs, 10)
    smoothed = torch.nn.functional.cross_entropy(z[0], y[0], label_smoothing=0.1)
    corrected = lsutils.noise.forward_corrected_cross_entropy(z[1], y[1], 0.2)
    assert torch.allclose(got, torch.stack([smoothed, corrected]), atol=1e-6)
    rows = torch.softmax(torch.randn(2, 5, 10, generator=g), -1)
    T = 3.0
    got = loop.member_losses(z, rows, [loop.FitConfig(temperature=T)] * 2, 10)
    kd = [T**2 * -(rows[s] * torch.log_softmax(z[s] / T, -1)).sum(-1).mean() for s in range(2)]
    assert torch.allclose(got, torch.stack(kd), atol=1e-6)


@pytest.mark.parametrize(
    "cfg, targets, match",
    [
        (dict(temperature=2.0), "labels", "temperature applies to target rows"),
        (dict(alpha=0.1), "rows", "smooth the targets yourself"),
        (dict(noise_correction=0.95), "labels", r"noise rate must be a finite number in \[0, 0.9"),
    ],
)  # fmt: skip
def test_objective_and_target_mismatches_are_rejected(cfg, targets, match):
    x, y = _synthetic("train")
    data = (x, y if targets == "labels" else lsutils.smooth_targets(y, 10, 0.0))
    with pytest.raises(ValueError, match=match):
        loop.fit(MLP(), data, loop.FitConfig(**cfg), num_classes=10, progress=False)


def test_noise_correction_and_smoothing_are_exclusive():
    with pytest.raises(ValueError, match="either label smoothing"):
        loop.FitConfig(alpha=0.1, noise_correction=0.2)
