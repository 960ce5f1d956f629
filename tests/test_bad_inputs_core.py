"""Bad input to the training core and the experiment modules gets a clear error, as in
tests/test_bad_inputs.py: each row is one misuse, the exception it must raise and a regex the
message must match (naming the argument and what is allowed). A meta-test requires a row for every
public function and class of these modules."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from lsutils import (
    charlm,
    ensemble,
    experiments,
    finetune,
    gan,
    inversion,
    loop,
    models,
    noise,
    report,
    rl,
    seeds,
    stacked,
    stats,
    train,
)

NAN, INF = math.nan, math.inf
G = torch.Generator().manual_seed(0)
X = torch.randn(8, 1, 28, 28, generator=G)
Y = torch.arange(8) % 4
Z = torch.randn(6, 4, generator=G)
YZ = torch.tensor([0, 1, 2, 3, 0, 1])
CFG = loop.FitConfig(epochs=1, batch_size=4)
TCFG = train.TrainConfig(epochs=1, train_size=16)
U8 = torch.randint(0, 256, (8, 3, 8, 8), dtype=torch.uint8, generator=G)
IMGS = torch.randn(4, 1, 6, 6, generator=G)
EDGES = torch.linspace(0.0, 5.0, 11, dtype=torch.float64)
CHAIN = torch.full((5,), 0.3)
IDS = torch.randint(0, 5, (12, 3), generator=G)
NEXT = torch.randint(0, 5, (12,), generator=G)
IV = stats.mean_interval([1.0, 1.1, 1.2])  # clearly above zero


def row(name, call, match, exc=ValueError):
    return pytest.param(call, exc, match, id=name)


def _tiny_gans():
    return gan.train_gans([(1.0, 0.0)], [0, 1], steps=1, batch_size=4, hidden=4, latent_dim=2)


def _tiny_chars():
    return charlm.train_char_mlps(IDS, NEXT, 5, [0.0], [0, 1], steps=1, batch_size=4, hidden=4)


BAD = [
    # ---------------------------------------------------------------- loop
    row(
        "FitConfig epochs=1.5",
        lambda: loop.FitConfig(epochs=1.5),
        r"epochs must be an integer >= 1",
    ),
    row("FitConfig epochs='3'", lambda: loop.FitConfig(epochs="3"), r"epochs must be an integer"),
    row("FitConfig lr=inf", lambda: loop.FitConfig(lr=INF), r"lr must be a finite number in \(0"),
    row("FitConfig lr=nan", lambda: loop.FitConfig(lr=NAN), r"lr must be a finite number"),
    row("FitConfig alpha=True", lambda: loop.FitConfig(alpha=True), r"alpha must be a number"),
    row(
        "FitConfig momentum=1", lambda: loop.FitConfig(momentum=1.0), r"momentum must be .*\[0, 1\)"
    ),
    row(
        "FitConfig optimizer='Adam'",
        lambda: loop.FitConfig(optimizer="Adam"),
        r"optimizer must be one of",
    ),
    row(
        "FitConfig temperature=0",
        lambda: loop.FitConfig(temperature=0),
        r"temperature must be .*\(0, inf\)",
    ),
    row(
        "FitConfig noise_correction=1",
        lambda: loop.FitConfig(noise_correction=1.0),
        r"noise_correction must be",
    ),
    row(
        "FitConfig drop_last=1",
        lambda: loop.FitConfig(drop_last=1),
        r"drop_last must be True or False",
    ),
    row(
        "fit data not a pair of tensors",
        lambda: loop.fit(models.MLP(num_classes=4), (X.numpy(), Y), CFG, num_classes=4),
        r"data must be a pair of tensors",
    ),
    row(
        "fit num_classes=1",
        lambda: loop.fit(models.MLP(num_classes=4), (X, Y), CFG, num_classes=1),
        r"num_classes must be at least 2",
    ),
    row(
        "fit label -100",
        lambda: loop.fit(
            models.MLP(num_classes=4), (X, torch.where(Y == 3, -100, Y)), CFG, num_classes=4
        ),
        r"labels must lie in \[0, 3\].*-100",
    ),
    row(
        "fit labels 2-D int",
        lambda: loop.fit(models.MLP(num_classes=4), (X, Y[:, None]), CFG, num_classes=4),
        r"labels must be 1-D",
    ),
    row(
        "fit rows with nan",
        lambda: loop.fit(
            models.MLP(num_classes=4), (X, torch.full((8, 4), NAN)), CFG, num_classes=4
        ),
        r"target rows y contain nan",
    ),
    row(
        "fit batch larger than data with drop_last",
        lambda: loop.fit(
            models.MLP(num_classes=4),
            (X, Y),
            loop.FitConfig(batch_size=9, drop_last=True),
            num_classes=4,
        ),
        r"need at least batch_size=9 examples",
    ),
    row("lr_factor step=-1", lambda: loop.lr_factor(-1, 10, CFG), r"step must be an integer >= 0"),
    row("lr_factor total=0", lambda: loop.lr_factor(0, 0, CFG), r"total must be an integer >= 1"),
    row("steps_per_epoch n=0", lambda: loop.steps_per_epoch(0, CFG), r"n must be an integer >= 1"),
    row(
        "num_threads 0",
        lambda: loop.num_threads(0).__enter__(),
        r"num_threads must be an integer >= 1",
    ),
    row(
        "seeded_init seed=-1",
        lambda: loop.seeded_init(models.MLP, -1),
        r"seed must be an integer >= 0",
    ),
    row("seeded_init not callable", lambda: loop.seeded_init(3, 0), r"make must be a callable"),
    row(
        "make_optimizer config not FitConfig",
        lambda: loop.make_optimizer([], {"lr": 1}, torch.device("cpu")),
        r"config must be a FitConfig",
    ),
    row(
        "make_scheduler total=0",
        lambda: loop.make_scheduler(
            torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1), CFG, 0
        ),
        r"total_steps must be an integer >= 1",
    ),
    row(
        "run_epochs n=0",
        lambda: loop.run_epochs(None, None, 0, CFG, device=torch.device("cpu")),
        r"n must be an integer >= 1",
    ),
    row(
        "member_losses logits 2-D",
        lambda: loop.member_losses(Z, YZ[None], [CFG], 4),
        r"logits must be \[S, B, K\]",
    ),
    row(
        "check_targets temperature with labels",
        lambda: loop.check_targets(YZ, loop.FitConfig(temperature=2), 4),
        r"temperature applies to target rows",
    ),
    row(
        "batch_step y 1-D",
        lambda: loop.batch_step(models.MLP(num_classes=4), X, Y, [CFG], 4),
        r"y must be \[S, N\]",
    ),
    row(
        "LoopState no generators",
        lambda: loop.LoopState(models.MLP(), None, None, [], []),
        r"need one generator and one History per member",
    ),
    row(
        "History.excess_loss nan",
        lambda: loop.History([1.0]).excess_loss(NAN),
        r"floor must be a finite number",
    ),
    # ---------------------------------------------------------------- train
    row(
        "TrainConfig classes (1, 1)",
        lambda: train.TrainConfig(classes=(1, 1)),
        r"classes must be >= 2 distinct",
    ),
    row(
        "TrainConfig model='resnet'",
        lambda: train.TrainConfig(model="resnet"),
        r"model must be one of",
    ),
    row(
        "TrainConfig label_noise=1.5",
        lambda: train.TrainConfig(label_noise=1.5),
        r"label_noise must be",
    ),
    row(
        "train not a config",
        lambda: train.train({"alpha": 0.1}),
        r"train_many takes a list of TrainConfig",
    ),
    row(
        "train_many with a dict",
        lambda: train.train_many([TCFG, {}]),
        r"train_many takes a list of TrainConfig",
    ),
    row(
        "config_data split='valid'",
        lambda: train.config_data(TCFG, "valid"),
        r"split must be one of",
    ),
    row(
        "config_data not a config",
        lambda: train.config_data("mlp"),
        r"config must be a TrainConfig",
    ),
    row(
        "predict_logits batch_size=0",
        lambda: train.predict_logits(models.MLP(), X, batch_size=0),
        r"batch_size must be an integer >= 1",
    ),
    row(
        "predict_logits x not a tensor",
        lambda: train.predict_logits(models.MLP(), X.numpy()),
        r"x must be a tensor",
    ),
    row("config_key not a config", lambda: train.config_key({}), r"config must be a TrainConfig"),
    row("cache_path not a config", lambda: train.cache_path(None), r"config must be a TrainConfig"),
    row(
        "TrainedModel.logits split='dev'",
        lambda: train.TrainedModel(models.MLP(), loop.History(), TCFG).logits("dev"),
        r"split must be one of",
    ),
    row(
        "TrainedModel.labels split='dev'",
        lambda: train.TrainedModel(models.MLP(), loop.History(), TCFG).labels("dev"),
        r"split must be one of",
    ),
    # ---------------------------------------------------------------- ensemble
    row(
        "StackedMLP of a CNN",
        lambda: ensemble.StackedMLP([models.SmallCNN()]),
        r"needs a non-empty list of",
    ),
    row(
        "StackedMLP shapes differ",
        lambda: ensemble.StackedMLP([models.MLP(hidden=3), models.MLP(hidden=4)]),
        r"same layer shapes",
    ),
    row(
        "StackedMLP.copy_to wrong count",
        lambda: ensemble.StackedMLP([models.MLP(num_classes=4)]).copy_to(
            [models.MLP(num_classes=4), models.MLP(num_classes=4)]
        ),
        r"need 1 models to copy into, got 2",
    ),
    row(
        "fit_ensemble members differ in lr",
        lambda: ensemble.fit_ensemble(
            [models.MLP(num_classes=4)] * 2, X, [Y, Y], [CFG, loop.FitConfig(lr=0.1)], num_classes=4
        ),
        r"may differ only in",
    ),
    row(
        "fit_ensemble counts differ",
        lambda: ensemble.fit_ensemble([models.MLP(num_classes=4)], X, [Y, Y], [CFG], num_classes=4),
        r"need one model, one label tensor and one config per member",
    ),
    row(
        "fit_ensemble labels and rows mixed",
        lambda: ensemble.fit_ensemble(
            [models.MLP(num_classes=4), models.MLP(num_classes=4)],
            X,
            [Y, torch.full((8, 4), 0.25)],
            [CFG, CFG],
            num_classes=4,
        ),
        r"all have labels or all have target rows",
    ),
    # ---------------------------------------------------------------- seeds
    row(
        "seed_configs one seed", lambda: seeds.seed_configs(TCFG, [0]), r"at least 2 distinct seeds"
    ),
    row(
        "seed_configs seed 1.5",
        lambda: seeds.seed_configs(TCFG, [0, 1.5]),
        r"seed must be an integer",
    ),
    row(
        "train_seeds repeated seeds",
        lambda: seeds.train_seeds(TCFG, [2, 2]),
        r"at least 2 distinct seeds",
    ),
    row("train_grid not a mapping", lambda: seeds.train_grid([TCFG]), r"configs must be a mapping"),
    row(
        "per_seed metric not callable", lambda: seeds.per_seed([], 3), r"metric must be a callable"
    ),
    # ---------------------------------------------------------------- stats
    row("mean_interval one value", lambda: stats.mean_interval([1.0]), r"at least 2 numbers"),
    row("mean_interval nan", lambda: stats.mean_interval([1.0, NAN]), r"contain nan or inf"),
    row(
        "mean_interval strings", lambda: stats.mean_interval(["a", "b"]), r"values must be numbers"
    ),
    row(
        "mean_interval confidence=95",
        lambda: stats.mean_interval([1.0, 2.0], 95),
        r"confidence must be .*\(0, 1\)",
    ),
    row(
        "paired_difference lengths",
        lambda: stats.paired_difference([1.0, 2.0], [1.0, 2.0, 3.0]),
        r"same seeds",
    ),
    row(
        "bootstrap_interval resamples=0",
        lambda: stats.bootstrap_interval([1.0, 2.0], resamples=0),
        r"resamples must be an integer >= 1",
    ),
    row(
        "replication_verdict predicted='no worse'",
        lambda: stats.replication_verdict(IV, "no worse"),
        r"predicted must be one of",
    ),
    row(
        "replication_verdict tuple interval",
        lambda: stats.replication_verdict((0.1, 0.2), "higher"),
        r"interval must be an Interval",
    ),
    row("claim direction='less'", lambda: stats.claim(IV, "less"), r"direction must be one of"),
    row(
        "claim not an interval",
        lambda: stats.claim((0.1, 0.2), "higher"),
        r"interval must be an Interval",
    ),
    row(
        "claim wrong direction",
        lambda: stats.claim(IV, "lower"),
        r"claimed .* says 'higher'",
        stats.ClaimError,
    ),
    row(
        "results_table empty",
        lambda: stats.results_table({}, caption="c", label="tab-x"),
        r"results is empty",
    ),
    row(
        "results_table one seed",
        lambda: stats.results_table({"a": {"m": [1.0]}}, caption="c", label="tab-x"),
        r"at least 2 numbers",
    ),
    row(
        "Interval low > high",
        lambda: stats.Interval(0.0, 1.0, -1.0, 3),
        r"need low <= mean <= high",
    ),
    row("Interval.format spec", lambda: IV.format(3), r"spec must be a format string"),
    # ---------------------------------------------------------------- report
    row("glue name with space", lambda: report.glue("a b", 1), r"glue name must be"),
    row("glue name not a string", lambda: report.glue(3, 1), r"glue name must be"),
    row(
        "Table bad label",
        lambda: report.Table(["a"], [[1]], "c", "Tab 1"),
        r"label must be lowercase",
    ),
    row(
        "Table ragged rows",
        lambda: report.Table(["a", "b"], [[1]], "c", "tab-x"),
        r"every row needs 2 cells",
    ),
    row("Table no caption", lambda: report.Table(["a"], [[1]], " ", "tab-x"), r"needs a caption"),
    # ---------------------------------------------------------------- noise
    row(
        "symmetric_noise_matrix rate=1.5",
        lambda: noise.symmetric_noise_matrix(4, 1.5),
        r"rate must be",
    ),
    row(
        "symmetric_noise_matrix K=1",
        lambda: noise.symmetric_noise_matrix(1, 0.1),
        r"num_classes must be at least 2",
    ),
    row(
        "noise_matched_alpha beyond (K-1)/K",
        lambda: noise.noise_matched_alpha(0.95, 10),
        r"rate must be",
    ),
    row(
        "noise_matched_alpha convention",
        lambda: noise.noise_matched_alpha(0.1, 10, "Others"),
        r"convention must be",
    ),
    row(
        "forward_corrected_log_likelihood rate 0.9 of 4",
        lambda: noise.forward_corrected_log_likelihood(torch.zeros(3), 0.9, 4),
        r"noise rate must be in \[0, 0.75\)",
    ),
    row(
        "forward_corrected_cross_entropy reduction",
        lambda: noise.forward_corrected_cross_entropy(Z, YZ, 0.1, reduction="avg"),
        r"reduction must be one of",
    ),
    row(
        "forward_corrected_cross_entropy float labels",
        lambda: noise.forward_corrected_cross_entropy(Z, YZ.float(), 0.1),
        r"labels must be an integer tensor",
    ),
    row(
        "check_noise_rate 'x'",
        lambda: noise.check_noise_rate("x", 4),
        r"noise rate must be a finite number",
    ),
    row(
        "noisy_label_fit nothing flipped",
        lambda: noise.noisy_label_fit(YZ, YZ, YZ, 4),
        r"need both flipped and unflipped labels",
    ),
    row(
        "noisy_label_fit lengths differ",
        lambda: noise.noisy_label_fit(YZ, YZ[:-1], YZ, 4),
        r"predictions, noisy_labels and clean_labels need the same length",
    ),
    row(
        "noisy_label_fit clean label 4 of 4",
        lambda: noise.noisy_label_fit(YZ, YZ, torch.full_like(YZ, 4), 4),
        r"labels must lie in \[0, 3\] for num_classes=4",
    ),
    # ---------------------------------------------------------------- models
    row("make_model name", lambda: models.make_model("vit"), r"model must be one of"),
    row(
        "make_model hidden=0",
        lambda: models.make_model("mlp", 10, 0),
        r"hidden must be an integer >= 1",
    ),
    row("MLP hidden=0", lambda: models.MLP(hidden=0), r"hidden must be an integer >= 1"),
    row(
        "SmallCNN num_classes=1",
        lambda: models.SmallCNN(num_classes=1),
        r"num_classes must be at least 2",
    ),
    row(
        "small_mlp depth=0",
        lambda: models.small_mlp(2, 1, depth=0),
        r"depth must be an integer >= 1",
    ),
    # ---------------------------------------------------------------- finetune
    row(
        "FinetuneConfig alpha=1",
        lambda: finetune.FinetuneConfig(alpha=1.0),
        r"alpha must be in \[0, 1\)",
    ),
    row(
        "FinetuneConfig image_size=4",
        lambda: finetune.FinetuneConfig(image_size=4),
        r"image_size must be an integer >= 8",
    ),
    row(
        "FinetuneConfig bf16='yes'",
        lambda: finetune.FinetuneConfig(bf16="yes"),
        r"bf16 must be True or False",
    ),
    row("build_model name", lambda: finetune.build_model("not_a_model"), r"unknown model"),
    row(
        "build_model num_classes=1",
        lambda: finetune.build_model("tiny", 1),
        r"num_classes must be at least 2",
    ),
    row(
        "train float images",
        lambda: finetune.train(finetune.FinetuneConfig(model="tiny"), U8.float(), Y),
        r"x must be uint8 images",
    ),
    row(
        "train labels out of range",
        lambda: finetune.train(finetune.FinetuneConfig(model="tiny"), U8, Y + 7, num_classes=10),
        r"labels must lie in \[0, 9\]",
    ),
    row(
        "evaluate batch_size=0",
        lambda: finetune.evaluate(finetune.TinyNet(), U8, batch_size=0),
        r"batch_size must be an integer >= 1",
    ),
    row(
        "evaluate float images",
        lambda: finetune.evaluate(finetune.TinyNet(), U8.float()),
        r"x must be uint8 images",
    ),
    row(
        "evaluation_metrics alpha=True",
        lambda: finetune.evaluation_metrics(Z, YZ, True),
        r"alpha must be a number",
    ),
    row("provenance device", lambda: finetune.provenance("gpu0"), r"device must be a torch device"),
    row(
        "run_sweep no alphas",
        lambda: finetune.run_sweep([], None, "/nonexistent"),
        r"alphas must name at least one",
    ),
    row("TinyNet width=0", lambda: finetune.TinyNet(width=0), r"width must be an integer >= 1"),
    # ---------------------------------------------------------------- rl
    row(
        "chain_random_walk gamma=1",
        lambda: rl.chain_random_walk(5, 1.0, CHAIN),
        r"gamma must lie in \[0, 1\)",
    ),
    row(
        "chain_random_walk shape",
        lambda: rl.chain_random_walk(4, 0.9, CHAIN),
        r"reward_prob must have shape \[4\]",
    ),
    row(
        "td_value_learning method",
        lambda: rl.td_value_learning(CHAIN, 0.9, ["huber"], [0], EDGES),
        r"method must be one of",
    ),
    row(
        "td_value_learning reward_prob 1.5",
        lambda: rl.td_value_learning(CHAIN * 5, 0.9, ["mse"], [0], EDGES),
        r"reward_prob must lie in \[0, 1\]",
    ),
    row(
        "td_value_learning repeated seeds",
        lambda: rl.td_value_learning(CHAIN, 0.9, ["mse"], [0, 0], EDGES),
        r"distinct seeds",
    ),
    row(
        "TDResult.final method",
        lambda: rl.td_value_learning(CHAIN, 0.9, ["mse"], [0], EDGES, steps=1, log_every=1).final(
            "huber"
        ),
        r"method must be one of",
    ),
    # ---------------------------------------------------------------- inversion
    row(
        "total_variation 3-D",
        lambda: inversion.total_variation(IMGS[0]),
        r"images must be a floating-point tensor \[N, C, H, W\]",
    ),
    row(
        "invert_classes steps=0",
        lambda: inversion.invert_classes(models.MLP(), [0], steps=0),
        r"steps must be an integer >= 1",
    ),
    row(
        "invert_classes bounds reversed",
        lambda: inversion.invert_classes(models.MLP(), [0], bounds=(1.0, 0.0)),
        r"bounds must be \(low, high\) with low < high",
    ),
    row(
        "invert_classes class out of range",
        lambda: inversion.invert_classes(models.MLP(num_classes=4), [5], steps=1),
        r"classes must lie in \[0, 3\]",
    ),
    row(
        "attack_accuracy targets float",
        lambda: inversion.attack_accuracy(models.MLP(num_classes=4), X, Y.float()),
        r"labels must be an integer tensor",
    ),
    row(
        "class_means missing class",
        lambda: inversion.class_means(IMGS, torch.tensor([0, 0, 1, 1]), 3),
        r"every class needs an image",
    ),
    row(
        "distance_to_class_means shapes",
        lambda: inversion.distance_to_class_means(
            IMGS, torch.tensor([0, 1, 0, 1]), torch.zeros(2, 1, 5, 5)
        ),
        r"must have the same image shape",
    ),
    # ---------------------------------------------------------------- stacked
    row(
        "StackedLinears no chains",
        lambda: stacked.StackedLinears([]),
        r"need at least one network",
    ),
    row(
        "StackedLinears chains of different depth",
        lambda: stacked.StackedLinears([[nn.Linear(2, 3)], [nn.Linear(2, 3), nn.Linear(3, 1)]]),
        r"all of the same layer shapes",
    ),
    row(
        "StackedLinears.write_chain too few layers",
        lambda: stacked.StackedLinears([[nn.Linear(2, 3), nn.Linear(3, 1)]]).write_chain(
            0, [nn.Linear(2, 3)]
        ),
        r"chain must have 2 layers, got 1",
    ),
    row(
        "StackedLinears.write_chain m=-1",
        lambda: stacked.StackedLinears([[nn.Linear(2, 3)]]).write_chain(-1, [nn.Linear(2, 3)]),
        r"m must be an integer >= 0",
    ),
    row(
        "StackedSmallMLP no seeds",
        lambda: stacked.StackedSmallMLP(2, 1, []),
        r"seeds must name at least one",
    ),
    row(
        "StackedSmallMLP.from_networks shapes",
        lambda: stacked.StackedSmallMLP.from_networks(
            [models.small_mlp(2, 1), models.small_mlp(3, 1)]
        ),
        r"all of the same layer shapes",
    ),
    row(
        "StackedSmallMLP.member out of range",
        lambda: stacked.StackedSmallMLP(2, 1, [0]).member(1),
        r"m must be < 1",
    ),
    row(
        "StackedSmallMLP forward shape",
        lambda: stacked.StackedSmallMLP(2, 1, [0])(torch.zeros(3, 3)),
        r"x must be \[1, B, 2\] or \[B, 2\]",
    ),
    # ------------------------------------------------------ charlm and gan: the seed ensembles
    row(
        "StackedCharMLP no seeds",
        lambda: charlm.StackedCharMLP(5, 3, []),
        r"seeds must name at least one",
    ),
    row(
        "StackedCharMLP forward shape",
        lambda: charlm.StackedCharMLP(5, 3, [0], hidden=4)(IDS[None, None]),
        r"x must be \[B, context\] or \[1, B, context\]",
    ),
    row(
        "train_char_mlps alpha=1",
        lambda: charlm.train_char_mlps(IDS, NEXT, 5, [1.0], [0]),
        r"alpha must be",
    ),
    row(
        "train_char_mlps repeated seeds",
        lambda: charlm.train_char_mlps(IDS, NEXT, 5, [0.0], [1, 1]),
        r"distinct seeds",
    ),
    row(
        "train_char_mlps ids out of the vocabulary",
        lambda: charlm.train_char_mlps(IDS + 5, NEXT, 5, [0.0], [0]),
        r"x must hold character ids in \[0, 4\]",
    ),
    row(
        "evaluate_char_models labels out of range",
        lambda: charlm.evaluate_char_models(_tiny_chars(), IDS, NEXT + 5),
        r"labels must lie in \[0, 4\]",
    ),
    row(
        "evaluate_char_models not a model",
        lambda: charlm.evaluate_char_models(None, IDS, NEXT),
        r"model must be a StackedCharMLP",
    ),
    row(
        "train_gans targets reversed",
        lambda: gan.train_gans([(0.0, 1.0)], [0]),
        r"fake_target must be below real_target",
    ),
    row(
        "train_gans repeated seeds", lambda: gan.train_gans([(1.0, 0.0)], [0, 0]), r"distinct seeds"
    ),
    row("GanEnsemble.sample n=0", lambda: _tiny_gans().sample(0), r"n must be an integer >= 1"),
]


@pytest.mark.parametrize("call, exc, match", BAD)
def test_bad_input_gets_a_clear_error(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_rows_are_unique():
    ids = [p.id for p in BAD]
    assert len(ids) == len(set(ids))


MODULES = (
    loop,
    train,
    ensemble,
    seeds,
    stats,
    report,
    noise,
    models,
    finetune,
    rl,
    inversion,
    stacked,
)
EXEMPT = {  # constants and result containers a user does not call with arguments
    "OPTIMIZERS", "SCHEDULES", "Step", "CACHE_VERSION", "SPLIT_SEED", "MEMBER_FIELDS", "SEEDS",
    "DIRECTIONS", "GLUE_PREFIX", "MODELS", "SweepResult", "TD_METHODS", "ClaimError", "NoisyFit",
}  # fmt: skip
ALIASES = {"train.fit": "fit ", "train.History": "History.", "train.TrainedModel": "TrainedModel."}


def test_every_public_name_has_a_row():
    ids = " ".join(p.id for p in BAD)
    missing = [
        f"{m.__name__.split('.')[-1]}.{name}"
        for m in MODULES
        for name in m.__all__
        if name not in EXEMPT and name not in ids
    ]
    assert not missing, missing
    new_in_old_modules = ["StackedCharMLP", "train_char_mlps", "evaluate_char_models", "train_gans",
                          "GanEnsemble.sample"]  # fmt: skip
    assert all(name in ids for name in new_in_old_modules)
    assert set(experiments.__all__) == {"SMALL", "MEDIUM", "ALPHAS", "REGIMES"}  # constants only
