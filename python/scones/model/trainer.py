"""The training recipe: augmentation, SGD with a one-cycle schedule, weight EMA, an ensemble of
small CNNs with a whitening stem (trained side by side on CPU), then temperature scaling on the
validation split, and the out-of-distribution guard (ood.py) on the training images' features with
its threshold on the validation images'.

Self-contained (torch + numpy + siblings) so SageMaker's script mode can run it. The recipes
themselves are in `recipes.py`; RECIPE.md has what was tried and why the defaults are what they are.
"""

from __future__ import annotations

import copy
import math
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

if __package__:
    from .augment import augment
    from .calibration import fit_temperature
    from .net import Predictor, SconesNet, build_network, whitening_filters
    from .ood import Guard, fit_guard
    from .peak_memory import PeakRss
    from .preprocess import normalise, to_tensor
    from .recipes import DEFAULT, Recipe
else:  # loaded from a SageMaker source_dir, siblings on sys.path
    from augment import augment  # type: ignore[no-redef]
    from calibration import fit_temperature  # type: ignore[no-redef]
    from net import Predictor, SconesNet, build_network, whitening_filters  # type: ignore[no-redef]
    from ood import Guard, fit_guard  # type: ignore[no-redef]
    from peak_memory import PeakRss  # type: ignore[no-redef]
    from preprocess import normalise, to_tensor  # type: ignore[no-redef]
    from recipes import DEFAULT, Recipe  # type: ignore[no-redef]


@dataclass(frozen=True)
class EpochReport:
    member: int  # which ensemble member (0-based)
    members: int
    epoch: int  # 1-based
    epochs: int
    train_loss: float
    val_accuracy: float
    elapsed_s: float  # since training started


@dataclass
class TrainResult:
    predictor: Predictor
    guard: Guard  # the out-of-distribution guard, fitted on the training images, thresholded on validation
    temperature: float
    val_accuracy: float
    val_logits: torch.Tensor  # what the predictor computes on the validation images, before the temperature
    val_nll_before: float
    val_nll_after: float
    epochs: list[int]  # epochs each member actually ran (a time budget can shorten them)
    precision: str  # what the training steps ran in: "bf16" (autocast) or "fp32"
    step_ms: dict[str, float] | None  # the probe's ms per pass in each precision (None: not probed)
    train_seconds: float
    peak_rss_mb: float  # the process's highest resident memory while `train` ran (peak_memory.PeakRss)
    history: list[EpochReport]

    def metrics(self) -> dict[str, Any]:
        """What every entry point records of a run in the artifact's metadata, beside its own inputs."""
        return {
            "val_accuracy": self.val_accuracy,
            "val_nll": self.val_nll_after,
            "temperature": self.temperature,
            "train_seconds": self.train_seconds,
            "precision": self.precision,
            "precision_probe_ms": self.step_ms,
            "peak_rss_mb": self.peak_rss_mb,
        }


def _learning_rate(recipe: Recipe, progress: float) -> float:
    """Linear warm-up to the peak, then linear decay to zero; `progress` in [0, 1]."""
    if progress < recipe.warmup_fraction:
        return recipe.learning_rate * progress / recipe.warmup_fraction
    return recipe.learning_rate * max(0.0, 1.0 - progress) / (1.0 - recipe.warmup_fraction)


class _WeightAverage:
    """An exponential moving average of a network's parameters and BN statistics."""

    def __init__(self, network: nn.Module, decay: float) -> None:
        self.decay = decay
        self.network = copy.deepcopy(network)
        self.updates = 0
        mine, theirs = self.network.state_dict().values(), network.state_dict().values()
        pairs = list(zip(mine, theirs, strict=True))
        # The tensors are views of both networks' storage: listed once, updated in place every step.
        self._averaged = [a for a, _ in pairs if a.dtype.is_floating_point]
        self._trained = [b for a, b in pairs if a.dtype.is_floating_point]
        self._copied = [(a, b) for a, b in pairs if not a.dtype.is_floating_point]

    @torch.no_grad()
    def update(self) -> None:
        self.updates += 1
        # Warm-up of the decay so early averages are not dominated by the random init.
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        torch._foreach_mul_(self._averaged, decay)
        torch._foreach_add_(self._averaged, self._trained, alpha=1 - decay)
        for mine, theirs in self._copied:  # BN's batch counters
            mine.copy_(theirs)


@torch.no_grad()
def predict_logits(predictor: Predictor, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    return predict_logits_and_features(predictor, images, batch_size)[0]


@torch.no_grad()
def predict_logits_and_features(
    predictor: Predictor, images: torch.Tensor, batch_size: int = 256
) -> tuple[torch.Tensor, torch.Tensor]:
    """Predictor.logits_and_features in batches: (N, classes) and (members, N, width)."""
    predictor.eval()
    parts = [predictor.logits_and_features(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]
    return torch.cat([logits for logits, _ in parts]), torch.cat([features for _, features in parts], dim=1)


# The probe times a few forward/backward passes of the network to be trained in each precision.
_PROBE_WARMUP_STEPS = 1
_PROBE_TIMED_STEPS = 3
# bf16 must win clearly: on a near tie, timing noise could flip the choice, and with it the weights.
BF16_MIN_SPEEDUP = 1.15


def _step_seconds(network: nn.Module, images: torch.Tensor, *, mixed: bool) -> float:
    """Median seconds of one training pass (forward, loss, backward) on a throwaway copy."""
    probe = copy.deepcopy(network).train()
    timings = []
    for _ in range(_PROBE_WARMUP_STEPS + _PROBE_TIMED_STEPS):
        started = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed):
            loss = probe(images).float().logsumexp(dim=1).mean()
        loss.backward()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings[_PROBE_WARMUP_STEPS:])


def measure_precisions(network: nn.Module, images: torch.Tensor, device: torch.device) -> dict[str, float] | None:
    """Milliseconds per training pass of `network` on `images` in fp32 and in bf16 autocast, or
    None where bf16 is not on offer (GPUs train in fp32: T4-class cards have no bf16).

    Measured rather than inferred from the CPU's flags, like cuDNN's benchmark mode: whether bf16
    pays depends on the microarchitecture, not on the instruction set. Per step of the default
    network, bf16 against fp32 was 2.1x faster on a Sapphire Rapids Xeon (AMX), 1.4x faster on an
    AMD EPYC with AVX512-BF16 (Zen 4), 1.4x slower on the Xeon capped to AVX512-BF16, 3x slower
    on plain AVX-512 and 11x on AVX2 (RECIPE.md).
    """
    if device.type != "cpu":
        return None
    batch = images.contiguous(memory_format=torch.channels_last)
    return {
        "fp32": 1000 * _step_seconds(network, batch, mixed=False),
        "bf16": 1000 * _step_seconds(network, batch, mixed=True),
    }


def bf16_is_faster(step_ms: dict[str, float] | None) -> bool:
    return step_ms is not None and step_ms["fp32"] > BF16_MIN_SPEEDUP * step_ms["bf16"]


@dataclass(frozen=True)
class _TrainingRun:
    """What every member's training shares: the data, the recipe and how the run is going."""

    recipe: Recipe
    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    device: torch.device
    mixed: bool  # the steps run under bf16 autocast
    started: float  # perf_counter when training started; EpochReport.elapsed_s counts from it
    report: Callable[[EpochReport], None]
    stop: threading.Event  # set when another member failed or the run was interrupted


def _train_member(
    run: _TrainingRun, network: SconesNet, *, member: int, seed: int, deadline: float | None
) -> tuple[nn.Module, int]:
    recipe, train_x, train_y, device, mixed = run.recipe, run.train_x, run.train_y, run.device, run.mixed
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.SGD(
        network.parameters(),
        lr=0.0,
        momentum=recipe.momentum,
        nesterov=True,
        weight_decay=recipe.weight_decay,
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)
    average = _WeightAverage(network, recipe.ema_decay) if recipe.ema_decay > 0 else None
    n = len(train_x)
    steps_per_epoch = math.ceil(n / recipe.batch_size)
    epochs = recipe.epochs
    step = 0
    member_started = time.perf_counter()
    epoch = 0
    while epoch < epochs:
        network.train()
        order = torch.randperm(n, generator=generator)
        total_loss = 0.0
        for start in range(0, n, recipe.batch_size):
            index = order[start : start + recipe.batch_size]
            if len(index) < 2:  # BatchNorm cannot train on a single image
                continue
            if run.stop.is_set():  # another member failed, or the run was interrupted: its error is raised
                return network, epoch
            # Augmentation stays on the CPU with the seeded generator; only the batch moves.
            images = augment(train_x[index], recipe.augment, generator)
            images = images.to(device).contiguous(memory_format=torch.channels_last)
            labels = train_y[index].to(device)
            for group in optimizer.param_groups:
                group["lr"] = _learning_rate(recipe, step / (epochs * steps_per_epoch))
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed):
                loss = loss_fn(network(normalise(images)), labels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if average is not None:
                average.update()
            total_loss += float(loss.detach()) * len(index)
            step += 1
        epoch += 1
        evaluated = average.network if average is not None else network
        # A progress figure, so in the steps' precision; calibration and serving run in fp32.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed):
            val_accuracy = _accuracy(Predictor([evaluated], flip_tta=recipe.flip_tta), run.val_x, run.val_y)
        now = time.perf_counter()
        run.report(EpochReport(member, recipe.ensemble, epoch, epochs, total_loss / n, val_accuracy, now - run.started))
        if deadline is not None and epoch < epochs:
            # Shrink the schedule (not just stop) so the learning rate still anneals to zero.
            per_epoch = (now - member_started) / epoch
            affordable = epoch + int((deadline - now) // per_epoch)
            epochs = max(epoch + 1, min(epochs, affordable))
    return (average.network if average is not None else network), epoch


def threads_per_member(device: torch.device, members: int) -> int | None:
    """Intra-op threads each member gets when the members train side by side, or None where
    they train one after another (GPUs; one member; fewer CPU threads than members).

    On CPU, two members side by side with one thread each step 20% faster than one member at a
    time with two threads: a batch of 32 small images does not keep two threads busy (RECIPE.md).
    """
    threads = torch.get_num_threads()
    if device.type != "cpu" or members < 2 or threads < members:
        return None
    return threads // members


def _build_member(recipe: Recipe, stem: torch.Tensor, seed: int, device: torch.device) -> SconesNet:
    torch.manual_seed(seed)  # the member's initialisation
    network = build_network(recipe.architecture())
    network.set_whitening(stem)
    # channels_last: oneDNN's convolutions run ~2.4x faster on CPU in this layout.
    return network.to(device, memory_format=torch.channels_last)


def _accuracy(predictor: Predictor, images: torch.Tensor, labels: torch.Tensor) -> float:
    return float((predict_logits(predictor, images).argmax(1) == labels).float().mean())


@dataclass(frozen=True)
class _Trained:
    members: list[nn.Module]
    epochs: list[int]
    mixed: bool
    step_ms: dict[str, float] | None
    history: list[EpochReport]


def _train_members(
    recipe: Recipe,
    data: tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor],
    *,
    seed: int,
    started: float,
    time_budget_s: float | None,
    on_epoch: Callable[[EpochReport], None] | None,
    device: torch.device,
) -> _Trained:
    train_x, train_y, val_x, val_y = data
    stem = whitening_filters(normalise(train_x))
    member_seeds = [seed * 1000 + member for member in range(recipe.ensemble)]
    networks = [_build_member(recipe, stem, member_seed, device) for member_seed in member_seeds]
    threads = torch.get_num_threads()
    side_by_side = threads_per_member(device, recipe.ensemble)
    # Set in every worker: a new thread does not inherit the caller's intra-op thread count.
    member_threads = side_by_side or threads
    history: list[EpochReport] = []
    lock = threading.Lock()
    stop = threading.Event()

    def report(epoch: EpochReport) -> None:
        with lock:
            history.append(epoch)
            if on_epoch is not None:
                on_epoch(epoch)

    def run(shared: _TrainingRun, member: int) -> tuple[nn.Module, int]:
        torch.set_num_threads(member_threads)
        deadline = None
        if time_budget_s is not None:
            # Side by side, every member has all that is left; one after another, an equal share.
            remaining = time_budget_s - (time.perf_counter() - started)
            deadline = time.perf_counter() + remaining / (1 if side_by_side else recipe.ensemble - member)
        return _train_member(shared, networks[member], member=member, seed=member_seeds[member], deadline=deadline)

    try:
        torch.set_num_threads(member_threads)  # the probe times a member as it will train
        step_ms = None
        if recipe.bf16:
            # A throwaway network, built from the first member's weights: probing draws no random numbers.
            batch = normalise(train_x[: recipe.batch_size]).to(device)
            step_ms = measure_precisions(networks[0], batch, device)
        shared = _TrainingRun(
            recipe, train_x, train_y, val_x, val_y, device, bf16_is_faster(step_ms), started, report, stop
        )
        # One worker runs the members one after another; side by side, one worker each.
        with ThreadPoolExecutor(recipe.ensemble if side_by_side else 1, thread_name_prefix="scones-member") as pool:
            futures = [pool.submit(run, shared, member) for member in range(recipe.ensemble)]
            try:
                for future in wait(futures, return_when=FIRST_EXCEPTION).done:
                    future.result()  # re-raises the first member's error, before the others finish
                trained = [future.result() for future in futures]
            except BaseException:  # a member failed, or Ctrl-C: the others stop at their next step
                stop.set()
                raise
    finally:
        torch.set_num_threads(threads)
    history.sort(key=lambda epoch: (epoch.member, epoch.epoch))
    return _Trained(
        members=[network.eval() for network, _ in trained],
        epochs=[ran for _, ran in trained],
        mixed=shared.mixed,
        step_ms=step_ms,
        history=history,
    )


def train(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    val_images: np.ndarray,
    val_labels: np.ndarray,
    recipe: Recipe = DEFAULT,
    *,
    seed: int = 0,
    time_budget_s: float | None = None,
    on_epoch: Callable[[EpochReport], None] | None = None,
    device: str | None = None,
) -> TrainResult:
    """Train `recipe.ensemble` networks on uint8 NHWC images and calibrate on the validation split.

    Deterministic for a seed (on the same machine and thread count) unless `time_budget_s`
    cuts the schedule short, which depends on how fast the machine is.
    """
    started = time.perf_counter()
    with PeakRss() as peak:
        run_on = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        train_x, val_x = to_tensor(train_images), to_tensor(val_images)
        train_y, val_y = torch.from_numpy(train_labels).long(), torch.from_numpy(val_labels).long()
        trained = _train_members(
            recipe,
            (train_x, train_y, val_x, val_y),
            seed=seed,
            started=started,
            time_budget_s=time_budget_s,
            on_epoch=on_epoch,
            device=run_on,
        )
        # Served on CPU: calibrate on exactly what the endpoint will compute.
        predictor = Predictor([m.cpu() for m in trained.members], flip_tta=recipe.flip_tta).eval()
        logits, val_features = predict_logits_and_features(predictor, val_x)
        temperature = fit_temperature(logits, val_y)
        predictor.temperature = temperature
        # The guard: the training images' features (unaugmented, as served) and the validation
        # images' for its threshold; the test split is never read.
        _, train_features = predict_logits_and_features(predictor, train_x)
        guard = fit_guard(train_features, train_y, val_features)
        train_seconds = time.perf_counter() - started
    return TrainResult(
        predictor=predictor,
        guard=guard,
        temperature=temperature,
        val_accuracy=float((logits.argmax(1) == val_y).float().mean()),
        val_logits=logits,
        val_nll_before=float(nn.functional.cross_entropy(logits.double(), val_y)),
        val_nll_after=float(nn.functional.cross_entropy(logits.double() / temperature, val_y)),
        epochs=trained.epochs,
        precision="bf16" if trained.mixed else "fp32",
        step_ms=trained.step_ms,
        train_seconds=train_seconds,
        peak_rss_mb=peak.mb,
        history=trained.history,
    )
