"""The training loop: phases, optimizers, precision, EMA, validation, checkpoints, logging.

``Trainer.run()`` alternates ``train()`` (steps up to the next validation point) and
``validate()`` (scalars + a sample grid), as in the original design note. What is optimised
comes from a :class:`tsb.tasks.base.Task`: the trainer runs the phases it declares and knows
nothing else about the model.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import signal
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf
from torch import Tensor
from torchvision.utils import save_image
from tqdm import tqdm

from tsb.data.base import DataModule
from tsb.errors import CheckpointError, ConfigError, NonFiniteLossError, RunWriteError, TrainingInterrupted
from tsb.logger.base import Logger
from tsb.storage.base import Storage
from tsb.tasks.base import Batch, Phase, Task, lazy_ratio
from tsb.training import distributed as dist
from tsb.training.checkpoint import find_latest, load_checkpoint, remove_stale_temporaries, save_checkpoint
from tsb.training.ema import EMA
from tsb.utils.device import resolve_device
from tsb.utils.seed import get_rng_state, set_rng_state

log = logging.getLogger(__name__)


def select_device(name: str = "auto") -> torch.device:
    """:func:`tsb.utils.device.resolve_device` for ``trainer.device``; under torchrun/SLURM with
    several processes, ``auto`` is this process's local CUDA device."""
    device = resolve_device(name, "trainer.device")
    if device.type == "cuda" and device.index is None and name in (None, "", "auto") and dist.is_distributed():
        return torch.device("cuda", dist.local_rank())
    return device


def move_batch(batch: Batch, device: torch.device, channels_last: bool = False) -> Batch:
    out: Batch = {}
    for k, v in batch.items():
        if isinstance(v, Tensor):
            v = v.to(device, non_blocking=True)
            if channels_last and v.dim() == 4:
                v = v.contiguous(memory_format=torch.channels_last)
        out[k] = v
    return out


class _StopBeforeStep(Exception):
    """A stop signal arrived and the data loader failed before the step began."""


class Trainer:
    """Generic trainer. Built by ``hydra.utils.instantiate(cfg.trainer, ...)`` in :func:`tsb.train.train`.

    The keyword arguments after ``seed`` are the settings of ``conf/trainer`` (their defaults here
    are the only ones: the structured config ``trainer/base`` is this signature, ``tsb/configs.py``):

    - ``max_steps`` / ``max_epochs``: stop after this many optimizer steps or passes over the
      training set, whichever comes first (None: no limit from that side; at least one is set).
    - ``device``: auto (cuda > mps > cpu), or cpu / cuda / cuda:1 / mps. ``num_threads``: CPU
      threads of the training process (None: torch's default; 1 on a small machine whose cores
      also run the data workers, measured 20x faster on 2 busy cores).
    - ``precision``: mixed precision on CUDA, bf16 | fp16 | None (always off on CPU).
      ``grad_clip_norm``: clip each group's gradient norm (None: off). ``accumulate_grad_batches``.
    - ``ema_decay`` / ``ema_start_step``: exponential moving average of the task's
      ``ema_modules()`` (None: off).
    - ``val_every_n_steps``, ``limit_val_batches``: validation scalars and a sample grid
      (``<run>/samples/``). ``checkpoint_every_n_steps``: ``last.ckpt`` every N steps (None: at
      every validation; also at the end and on SIGINT / SIGTERM after the current step);
      ``best.ckpt`` after a validation that improves ``monitor`` (``monitor_mode`` min | max).
    - ``log_every_n_steps``, ``progress_bar``; ``deterministic``: deterministic torch algorithms.
    - several processes (torchrun / SLURM): ``ddp_find_unused_parameters`` (lets a phase use part
      of its group), ``ddp_bucket_cap_mb``.
    - GPU speed (ignored on CPU): ``channels_last``, ``compile``, ``tf32``, ``cudnn_benchmark``;
      ``profile``: a torch.profiler trace of the first steps into ``<run>/profile/``.
    """

    def __init__(
        self,
        task: Task,
        data: DataModule,
        optimizer: Mapping[str, Any],
        run_dir: str | Path,
        loggers: Sequence[Logger] = (),
        storage: Storage | None = None,
        resolved_config: dict[str, Any] | None = None,
        seed: int = 0,
        max_steps: int | None = 2000,
        max_epochs: int | None = None,
        device: str = "auto",
        precision: str | None = "bf16",
        grad_clip_norm: float | None = None,
        accumulate_grad_batches: int = 1,
        ema_decay: float | None = 0.999,
        ema_start_step: int = 0,
        val_every_n_steps: int = 250,
        limit_val_batches: int | None = 4,
        checkpoint_every_n_steps: int | None = None,
        monitor: str | None = None,
        monitor_mode: str = "min",
        log_every_n_steps: int = 10,
        progress_bar: bool = True,
        deterministic: bool = False,
        channels_last: bool = False,
        compile: bool = False,
        tf32: bool = True,
        cudnn_benchmark: bool = True,
        profile: bool = False,
        export_path: str | None = None,
        run_name: str | None = None,
        num_threads: int | None = None,
        ddp_find_unused_parameters: bool = True,
        ddp_bucket_cap_mb: float | None = None,
    ) -> None:
        for key, value in (
            ("max_steps", max_steps),
            ("max_epochs", max_epochs),
            ("val_every_n_steps", val_every_n_steps),
            ("checkpoint_every_n_steps", checkpoint_every_n_steps),
            ("log_every_n_steps", log_every_n_steps),
            ("accumulate_grad_batches", accumulate_grad_batches),
        ):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError(f"trainer.{key} must be a whole number >= 1, got {value!r}; e.g. trainer.{key}=100")
        if max_steps is None and max_epochs is None:
            raise ConfigError("set trainer.max_steps or trainer.max_epochs (both are null)")
        if ema_decay is not None and not 0 <= ema_decay < 1:
            raise ConfigError(f"trainer.ema_decay must be in [0, 1) (e.g. 0.999; null or 0 = off), got {ema_decay}")
        if monitor_mode not in ("min", "max"):
            raise ConfigError(f"trainer.monitor_mode must be 'min' or 'max', got {monitor_mode!r}")
        if precision not in (None, "bf16", "fp16", "32", "fp32"):
            raise ConfigError(f"trainer.precision must be bf16, fp16 or null, got {precision!r}")
        if grad_clip_norm is not None and (
            isinstance(grad_clip_norm, bool)
            or not isinstance(grad_clip_norm, (int, float))
            or not math.isfinite(grad_clip_norm)
            or grad_clip_norm < 0
        ):
            raise ConfigError(
                f"trainer.grad_clip_norm must be a positive number (the largest gradient norm, e.g. "
                f"trainer.grad_clip_norm=1.0) or null (no clipping), got {grad_clip_norm!r}"
            )
        if num_threads is not None and (
            isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0
        ):
            raise ConfigError(
                f"trainer.num_threads must be a whole number >= 1 (CPU threads, e.g. trainer.num_threads=1) "
                f"or null (torch's default), got {num_threads!r}"
            )
        self.task = task
        self.data = data
        self.optimizer_cfg = optimizer
        self.run_dir = Path(run_dir)
        self.loggers = list(loggers)
        self.storage = storage or Storage()
        self.config = resolved_config or {}
        self.seed = seed
        self.max_steps = max_steps
        self.max_epochs = max_epochs
        self.device_name = device
        self.precision = precision
        self.grad_clip_norm = grad_clip_norm
        self.accumulate = accumulate_grad_batches
        self.ema_decay = ema_decay
        self.ema_start_step = ema_start_step
        self.val_every = max(1, val_every_n_steps)
        self.limit_val_batches = limit_val_batches
        self.ckpt_every = checkpoint_every_n_steps or self.val_every
        self.monitor = monitor
        self.monitor_mode = monitor_mode
        self.log_every = max(1, log_every_n_steps)
        self.progress_bar = progress_bar
        self.deterministic = deterministic
        self.channels_last = channels_last
        self.compile = compile
        self.tf32 = tf32
        self.cudnn_benchmark = cudnn_benchmark
        self.profile = profile
        self.export_path = export_path
        # name of the run's folder in remote storage: unique across runs and sweep points
        self.run_name = run_name or self.run_dir.name
        self.num_threads = num_threads
        self.ddp_find_unused_parameters = ddp_find_unused_parameters
        self.ddp_bucket_cap_mb = ddp_bucket_cap_mb

        self.step = 0
        self.best_value: float | None = None
        self.last_train_logs: dict[str, float] = {}
        self.last_val_logs: dict[str, float] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.schedulers: dict[str, Any] = {}
        self.scalers: dict[str, torch.amp.GradScaler] = {}
        self.ema: EMA | None = None
        self._train_iter: Iterator[Batch] | None = None
        self._last_batch: Batch | None = None
        self._is_setup = False
        self._ddp: dict[str, torch.nn.parallel.DistributedDataParallel] = {}
        self._stop_signal: int | None = None  # set by SIGINT / SIGTERM: stop after this step
        # phase -> (first bad step + 1, its loss) on the device; 0 = all finite so far
        self._non_finite: dict[str, tuple[Tensor, Tensor]] = {}

    # ------------------------------------------------------------------------------------ set-up
    @property
    def is_main(self) -> bool:
        return dist.rank() == 0

    @property
    def ckpt_dir(self) -> Path:
        return self.run_dir / "checkpoints"

    def setup(self, ckpt_path: str | None = None) -> None:
        """Place the task, build optimizers, EMA and loggers; resume from ``ckpt_path`` if given."""
        self.device = select_device(self.device_name)
        if self.num_threads:
            torch.set_num_threads(self.num_threads)
        self.amp_dtype: torch.dtype | None = None
        if self.device.type == "cuda":
            # in every precision: TF32 is what fp32 matmuls and convolutions run in when allowed
            torch.backends.cuda.matmul.allow_tf32 = self.tf32
            torch.backends.cudnn.allow_tf32 = self.tf32
            torch.backends.cudnn.benchmark = self.cudnn_benchmark and not self.deterministic
            if self.precision in ("bf16", "fp16"):
                self.amp_dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        if self.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)
        self.data.setup_distributed(dist.rank(), dist.world_size())

        self.task.to(self.device)
        if self.channels_last:
            self.task.to(memory_format=torch.channels_last)  # type: ignore[call-arg]
        groups = self.task.param_groups()
        phase_groups = {p.group for p in self.task.phases()}
        unknown = phase_groups - set(groups)
        if unknown:
            raise ConfigError(f"the task's phases use parameter groups {sorted(unknown)} it does not declare")
        phases = self.task.phases()
        for name, params in groups.items():
            with self._refused_settings(self.optimizer_cfg, name, "optimizer"):
                self.optimizers[name] = self._build(self.optimizer_cfg, name, "optimizer")(params)
            self._apply_lazy_ratio(name, lazy_ratio(phases, name), phases)
            sched_cfg = self.optimizer_cfg.get("scheduler") or {}
            with self._refused_settings(sched_cfg, name, "optimizer.scheduler"):
                sched = self._build(sched_cfg, name, "scheduler") if sched_cfg else None
                if sched is not None:
                    self.schedulers[name] = sched(self.optimizers[name])
            self.scalers[name] = torch.amp.GradScaler(
                self.device.type, enabled=self.amp_dtype == torch.float16
            )
        self._grouped_params = {n: list(ps) for n, ps in groups.items()}
        self._all_group_params = [p for ps in self._grouped_params.values() for p in ps]
        if self.ema_decay and self.task.ema_modules():
            self.ema = EMA(self.task, self.task.ema_modules(), self.ema_decay, self.ema_start_step)
        if self.compile:
            self.task.compile()  # each network compiles what the phases call (Task.compile)
        dist.broadcast_state(self.task)
        # one DistributedDataParallel per parameter group under torchrun/SLURM; {} in one process
        self._ddp = dist.ddp_groups(
            self.task, self._grouped_params, self.device, self.ddp_find_unused_parameters, self.ddp_bucket_cap_mb
        )

        resume = self._resolve_ckpt_path(ckpt_path)
        if resume is not None:
            self.load(resume)

        if self.max_steps is None or self.max_epochs is not None:
            per_epoch = self._batches_per_epoch() // self.accumulate
            by_epochs = self.max_epochs * per_epoch if self.max_epochs is not None else None
            self.total_steps = min(s for s in (self.max_steps, by_epochs) if s is not None)
        else:
            self.total_steps = self.max_steps
        if resume is not None:
            self._check_steps_left(resume)

        if self.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            for stale in remove_stale_temporaries(self.ckpt_dir):
                log.info("removed %s, a partial checkpoint left by a killed run", stale)
            for lg in self.loggers:
                lg.setup(self.run_dir, self.config)
                if resume is not None:
                    lg.resume(self.step)  # the steps after the checkpoint are redone: logged once
            self.storage.setup(self.run_dir, self.run_name)
        self._is_setup = True

    def _check_steps_left(self, path: Path) -> None:
        """Refuse a resume whose checkpoint is past this run's end; say so when it is at the end."""
        ends = (f"trainer.max_steps={self.max_steps}" if self.max_steps == self.total_steps
                else f"trainer.max_epochs={self.max_epochs}: {self.total_steps} steps")  # fmt: skip
        if self.step > self.total_steps:
            raise ConfigError(
                f"{path} is at step {self.step}, past the end of this run ({ends}); raise it above "
                f"{self.step} to train on, or start fresh with ckpt_path=null (or another run folder)"
            )
        if self.step == self.total_steps and self.is_main:
            log.info(
                "%s is at step %d, the end of this run (%s): nothing to train; raise it to train on",
                path, self.step, ends,
            )  # fmt: skip

    @staticmethod
    @contextlib.contextmanager
    def _refused_settings(cfg: Mapping[str, Any], group: str, what: str) -> Iterator[None]:
        """A constructor's refusal of a setting (``Adam(lr=nan)``: ValueError) as one message naming
        the config node (``optimizer.default``)."""
        try:
            yield
        except (ValueError, TypeError, InstantiationException) as e:
            key = group if cfg.get(group, None) is not None else "default"
            cause = e.__cause__ if isinstance(e, InstantiationException) and e.__cause__ else e
            first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
            example = f"{what}.{key}.lr=0.002" if what == "optimizer" else f"{what}.{key}.T_max=1000"
            raise ConfigError(
                f"{what}.{key} is refused for parameter group {group!r}: {first}. Fix that setting "
                f"(for example {example})"
            ) from e

    def _apply_lazy_ratio(self, group: str, c: float, phases: list[Phase]) -> None:
        """``lr * c`` and ``betas ** c`` (Adam's) for a group that lazy phases step extra times."""
        if c == 1.0:
            return
        for g in self.optimizers[group].param_groups:
            g["lr"] = g["lr"] * c
            if "betas" in g:
                g["betas"] = tuple(b**c for b in g["betas"])
        if self.is_main:
            every = ", ".join(f"{p.name} every {p.interval}" for p in phases if p.group == group)
            log.info("optimizer of %r: lr x %.4g, betas ** %.4g (lazy regularisation: %s steps)", group, c, c, every)

    @staticmethod
    def _build(cfg: Mapping[str, Any], group: str, what: str) -> Any:
        node = cfg.get(group, None)
        if node is None:
            node = cfg.get("default", None)
        if node is None:
            if what == "optimizer":
                raise ConfigError(f"no optimizer for parameter group {group!r}: set optimizer.default or optimizer.{group}")
            return None
        obj = instantiate(node)
        if not callable(obj):
            raise ConfigError(f"optimizer config for {group!r} must have _partial_: true")
        return obj

    def _batches_per_epoch(self) -> int:
        n = len(self.data.train_dataset())  # type: ignore[arg-type]
        return max(1, n // self.data.batch_size)

    def _resolve_ckpt_path(self, ckpt_path: str | None) -> Path | None:
        if ckpt_path in (None, "", "null"):
            return None
        if ckpt_path == "auto":
            found = find_latest(self.run_dir)
            if found is None:
                log.info("ckpt_path=auto: no checkpoint in %s, starting fresh", self.ckpt_dir)
            return found
        return Path(str(ckpt_path))

    # ------------------------------------------------------------------------------ the loop
    def run(self, ckpt_path: str | None = None) -> dict[str, float]:
        """Train to ``max_steps`` / ``max_epochs``, validating and checkpointing on the way."""
        if not self._is_setup:
            self.setup(ckpt_path)
        self._start_time = time.time()
        self._pbar = tqdm(
            total=self.total_steps,
            initial=self.step,
            disable=not (self.progress_bar and self.is_main),
            dynamic_ncols=True,
            desc=self.config.get("task_name", "train"),
        )
        profiler = self._profiler()
        finished = False
        try:
            with self._stop_on_signals(), profiler if profiler is not None else contextlib.nullcontext():
                self._profiler_obj = profiler
                while self.step < self.total_steps:
                    self.train()
                    if self._stop_signal is not None:
                        self._stop()
                    self.validate()
                    # last.ckpt at the checkpoint interval (train() writes it between validations)
                    # and at the end; best.ckpt whenever a validation improved the monitored metric
                    self.save(last=self.step % self.ckpt_every == 0 or self.step >= self.total_steps)
            summary = self._finish()
            finished = True
        finally:
            self._pbar.close()
            self._close_train_iter()
            if not finished and self.is_main:
                self.storage.flush()  # whatever was written before the failure still goes out
        return summary

    @contextlib.contextmanager
    def _stop_on_signals(self) -> Iterator[None]:
        """SIGINT (Ctrl-C) and SIGTERM (SLURM's preemption / time limit) ask the loop to stop after
        the current step; a second Ctrl-C stops at once (the last checkpoint file stays intact)."""
        if threading.current_thread() is not threading.main_thread():
            yield  # handlers can only be installed from the main thread
            return
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def request_stop(signum: int, frame: object) -> None:
            del frame
            if signum == signal.SIGINT and self._stop_signal is not None:
                raise KeyboardInterrupt
            self._stop_signal = signum
            if self.is_main:
                log.warning(
                    "%s received: finishing step %d, then writing last.ckpt (Ctrl-C again to stop at once)",
                    signal.Signals(signum).name, self.step + 1,
                )

        for sig in previous:
            signal.signal(sig, request_stop)
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop_requested(self) -> bool:
        """Whether a stop signal arrived (on any rank: every rank must stop at the same step).

        One process: a flag, checked every step for free. Several: an all-reduce at log steps only
        (a host sync each step would stall the GPUs)."""
        if not dist.is_distributed():
            return self._stop_signal is not None
        if self.step % self.log_every != 0:
            return False
        signum = dist.max_over_ranks(self._stop_signal or 0, self.device)
        if signum and self._stop_signal is None:
            self._stop_signal = signum
        return bool(signum)

    def _stop(self) -> None:
        """Write last.ckpt for the steps done and raise :class:`TrainingInterrupted`."""
        assert self._stop_signal is not None
        name = signal.Signals(self._stop_signal).name
        self.save(last=True, best=False)
        last = self.ckpt_dir / "last.ckpt"
        raise TrainingInterrupted(
            f"stopped by {name} after step {self.step} of {self.total_steps}: wrote {last}. Resume with "
            f"the same run folder and ckpt_path=auto (or ckpt_path={last})",
            exit_code=128 + self._stop_signal,
        )

    def _close_train_iter(self) -> None:
        """Shut the training loader's workers down now. They ignore SIGINT / SIGTERM (the step in
        flight must finish, tsb.data.base), so left to the interpreter's exit they are sent a
        SIGTERM and joined, and a run stopped by a signal would never end."""
        it, self._train_iter = self._train_iter, None
        shutdown = getattr(it, "_shutdown_workers", None)  # torch's multi-process loader iterator
        if callable(shutdown):
            shutdown()

    def _next_batch(self) -> Batch:
        if self._train_iter is None:
            self._train_iter = iter(self.data.train_loader(start_batch=self.step * self.accumulate))
        try:
            raw = next(self._train_iter)
        except RuntimeError:
            if self._stop_signal is None:
                raise
            # the signal reached the loader's workers too (SLURM signals every process); no phase
            # ran yet, so the state of the steps done is whole: stop before this step
            raise _StopBeforeStep from None
        return move_batch(raw, self.device, self.channels_last)

    def train(self) -> None:
        """Optimizer steps up to the next validation point (or the end)."""
        self.task.train()
        stop = min(self.total_steps, (self.step // self.val_every + 1) * self.val_every)
        while self.step < stop:
            try:
                logs = self.train_step()
            except _StopBeforeStep:
                return
            self.step += 1
            self._pbar.update(1)
            if self.step % self.log_every == 0 or self.step == stop:
                self._check_finite()
                scalars = {k: float(v) for k, v in logs.items()}
                self.last_train_logs = scalars
                self._log(scalars)
                main = {k.split("/", 1)[1]: f"{v:.4g}" for k, v in list(scalars.items())[:4]}
                self._pbar.set_postfix(main, refresh=False)
            if getattr(self, "_profiler_obj", None) is not None:
                self._profiler_obj.step()  # type: ignore[union-attr]
            if self._stop_requested():
                return
            if self.step % self.ckpt_every == 0 and self.step < stop:
                self.save(best=False)  # between validations; run() saves at validation steps

    def train_step(self) -> dict[str, Tensor]:
        """One optimizer step of every phase that is due; returns the logged scalars (tensors)."""
        batches = [self._next_batch() for _ in range(self.accumulate)]
        self._last_batch = batches[-1]
        logs: dict[str, Tensor] = {}
        for phase in self.task.phases():
            if not phase.due(self.step):
                continue
            logs.update(self._run_phase(phase, batches))
        if self.ema is not None:
            self.ema.update(self.step)
        for name, sched in self.schedulers.items():
            del name
            sched.step()
        return logs

    def _autocast(self) -> contextlib.AbstractContextManager[Any]:
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.amp_dtype)

    @staticmethod
    def _eager_if(condition: bool) -> contextlib.AbstractContextManager[Any]:
        """Run ``torch.compile``-d modules eagerly (torch.compile has no double backward)."""
        return torch.compiler.set_stance("force_eager") if condition else contextlib.nullcontext()

    def _run_phase(self, phase: Phase, batches: list[Batch]) -> dict[str, Tensor]:
        params = self._grouped_params[phase.group]
        wanted = {id(p) for p in params}
        for p in self._all_group_params:
            p.requires_grad_(id(p) in wanted)
        opt = self.optimizers[phase.group]
        scaler = self.scalers[phase.group]
        opt.zero_grad(set_to_none=True)
        totals: dict[str, Tensor] = {}
        ddp = self._ddp.get(phase.group)
        with self._eager_if(self.compile and phase.double_backward):
            for i, batch in enumerate(batches):
                # DDP averages gradients during the last micro-batch's backward only
                no_sync = ddp.no_sync() if ddp is not None and i < len(batches) - 1 else contextlib.nullcontext()
                with no_sync:
                    with self._autocast():
                        if ddp is not None:
                            loss, logs = ddp(phase, batch, self.step)
                        else:
                            out = self.task.phase_loss(phase, batch, self.step)
                            loss, logs = out.loss, out.logs
                    loss = loss.float()
                    self._note_non_finite(phase, loss.detach())  # no host sync: checked at log steps
                    # the phase's interval gain: a phase run every k steps pulls k times as hard
                    scaler.scale(loss * (phase.interval / len(batches))).backward()
                for k, v in logs.items():
                    v = v.detach().float() / len(batches)
                    totals[k] = totals[k] + v if k in totals else v
        if self.grad_clip_norm:
            scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(params, self.grad_clip_norm)
        scaler.step(opt)
        scaler.update()
        return {f"train/{phase.name}/{k}": v for k, v in totals.items()}

    def _note_non_finite(self, phase: Phase, loss: Tensor) -> None:
        """Remember, on the device, the first step at which ``phase``'s loss was not finite."""
        first, value = self._non_finite.get(phase.name, (None, None))
        bad = ~torch.isfinite(loss)
        if first is None or value is None:
            first = torch.zeros((), dtype=torch.int64, device=loss.device)
            value = torch.zeros((), dtype=loss.dtype, device=loss.device)
        new = bad & (first == 0)
        self._non_finite[phase.name] = (torch.where(new, self.step + 1, first), torch.where(new, loss, value))

    def _check_finite(self) -> None:
        """Raise :class:`NonFiniteLossError` if a loss was NaN / infinite since the last check.

        Checked at log steps and before every checkpoint (one host sync there, not one per phase
        and micro-batch), so a non-finite state is never saved; the steps after the bad one are
        lost with it (at most ``log_every_n_steps``)."""
        if not self._non_finite:
            return
        names = list(self._non_finite)
        firsts = torch.stack([self._non_finite[n][0] for n in names]).tolist()
        bad_steps = [(f - 1, n) for f, n in zip(firsts, names) if f > 0]
        worst = dist.max_over_ranks(int(bool(bad_steps)), self.device) if dist.is_distributed() else int(bool(bad_steps))
        if not worst:
            return
        if not bad_steps:
            raise NonFiniteLossError(
                "a loss became NaN or infinite on another process; see its message. Lower the learning rate "
                "(optimizer.default.lr) or clip gradients (trainer.grad_clip_norm=1.0), then resume with ckpt_path=auto."
            )
        step, name = min(bad_steps)
        value = float(self._non_finite[name][1])
        last = self.ckpt_dir / "last.ckpt"
        kept = f"the last good checkpoint {last} is kept" if last.exists() else "no checkpoint was written yet"
        raise NonFiniteLossError(
            f"the loss of phase {name!r} is {value} at step {step}; training stopped at step {self.step} "
            f"without saving, and {kept}. Lower the learning rate (optimizer.default.lr), clip gradients "
            f"(trainer.grad_clip_norm=1.0) or use trainer.precision=bf16 / null, then resume with "
            f"ckpt_path=auto."
        )

    # ------------------------------------------------------------------------------ validation
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Average the task's validation scalars over a few batches and write a sample grid.

        Runs with EMA weights (when kept) under a forked RNG, so it does not change training.
        """
        self.task.eval()
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        ema_ctx = self.ema.applied() if self.ema is not None else contextlib.nullcontext()
        sums: dict[str, float] = {}
        n = 0
        sample_batch: Batch | None = None
        with torch.random.fork_rng(devices=devices), ema_ctx:
            loader = self.data.val_loader()
            if loader is not None:
                for i, raw in enumerate(loader):
                    if self.limit_val_batches is not None and i >= self.limit_val_batches:
                        break
                    batch = move_batch(raw, self.device, self.channels_last)
                    if sample_batch is None:
                        sample_batch = batch
                    with self._autocast():
                        metrics = self.task.validation_step(batch)
                    for k, v in metrics.items():
                        sums[k] = sums.get(k, 0.0) + float(v)
                    n += 1
            if sample_batch is None:
                sample_batch = self._last_batch
            grid = None
            if sample_batch is not None and self.is_main:
                with self._autocast():
                    grid = self.task.sample(sample_batch).float()
        self.task.train()
        scalars = dist.average_scalars({f"val/{k}": v / n for k, v in sums.items()} if n else {}, self.device)
        self.last_val_logs = scalars
        if scalars:
            self._log(scalars)
        if grid is not None:
            path = self.run_dir / "samples" / f"step_{self.step:07d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            save_image(grid, path)
            for lg in self.loggers:
                lg.log_image("samples", path, self.step)
            self.storage.upload(path, f"samples/{path.name}")
        return scalars

    # ------------------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        from tsb.utils.secrets import redact

        return {
            "task": self.task.state_dict(),
            "optimizers": {k: o.state_dict() for k, o in self.optimizers.items()},
            "optimizer_classes": {k: type(o).__name__ for k, o in self.optimizers.items()},
            "schedulers": {k: s.state_dict() for k, s in self.schedulers.items()},
            "scalers": {k: s.state_dict() for k, s in self.scalers.items()},
            "ema": self.ema.state_dict() if self.ema is not None else None,
            "ema_names": self.ema.names if self.ema is not None else [],
            "step": self.step,
            "data": {"consumed_batches": self.step * self.accumulate},
            "rng": get_rng_state(),
            "best": {"metric": self.monitor, "value": self.best_value},
            "config": redact(OmegaConf.to_yaml(OmegaConf.create(self.config))),
        }

    def save(self, last: bool = True, best: bool = True) -> None:
        """Write ``last.ckpt`` (``last``) and ``best.ckpt`` when the monitored metric of the latest
        validation improved (``best``: call it right after a validation)."""
        self._check_finite()  # every rank: a NaN anywhere means no rank saves
        if not self.is_main:
            dist.barrier()
            return
        if not last and not (best and self.monitor is not None):
            dist.barrier()
            return
        state = self.state_dict()
        improved = False
        if best and self.monitor is not None:
            value = self.last_val_logs.get(self.monitor)
            if value is None:
                log.warning("trainer.monitor=%s is not among the validation metrics %s", self.monitor, list(self.last_val_logs))
            elif self._improved(value):
                improved = True
                self.best_value = value
                state["best"] = {"metric": self.monitor, "value": value}
        if last:  # holds the best value so far, so a resumed run compares against it
            path = self._save_file("last.ckpt", state)
            self.storage.upload(path, "checkpoints/last.ckpt")
        if improved:
            path = self._save_file("best.ckpt", state)
            self.storage.upload(path, "checkpoints/best.ckpt")
        dist.barrier()

    def _save_file(self, name: str, state: dict[str, Any]) -> Path:
        """:func:`save_checkpoint` into the run's checkpoints folder; a full disk or a folder that
        cannot be written is one :class:`RunWriteError` (the previous file is intact)."""
        path = self.ckpt_dir / name
        try:
            return save_checkpoint(path, state)
        except OSError as e:
            kept = f"the previous {name} is intact" if path.exists() else f"no {name} was written"
            raise RunWriteError(
                f"cannot write {path} at step {self.step} ({e.strerror or e}); {kept}. Free space on "
                "that disk (or make the folder writable) and resume with ckpt_path=auto"
            ) from e

    def _check_same_model(self, path: str | Path, state: dict[str, Any]) -> None:
        """One message, naming the checkpoint's own model, when its weights do not fit this run's."""
        own = {k: tuple(v.shape) for k, v in self.task.state_dict().items()}
        theirs = {k: tuple(v.shape) for k, v in state["task"].items()}
        missing = sorted(set(own) - set(theirs))
        unexpected = sorted(set(theirs) - set(own))
        reshaped = sorted(k for k in set(own) & set(theirs) if own[k] != theirs[k])
        if not (missing or unexpected or reshaped):
            return
        from tsb.training.checkpoint import checkpoint_config

        cfg = checkpoint_config(state, path)
        choices = cfg.get("choices") or {}
        mine = self.config.get("choices") or {}
        if choices.get("model"):
            was = f"model={choices['model']}" + (f" (this run: model={mine['model']})" if mine.get("model") else "")
        else:
            was = f"a model built by {cfg.get('model', {}).get('_target_', 'an unknown class')}"
        first = (reshaped and f"{reshaped[0]} is {theirs[reshaped[0]]} there, {own[reshaped[0]]} here") or (
            missing and f"{missing[0]} is missing there") or f"{unexpected[0]} is extra there"  # fmt: skip
        raise CheckpointError(
            f"{path} was trained with {was}: its weights do not fit this run's model ({len(missing)} "
            f"missing, {len(unexpected)} unexpected, {len(reshaped)} of another shape; e.g. {first}). "
            "Resume with the model (and model.* overrides) that wrote it, or start fresh with ckpt_path=null"
        )

    def _improved(self, value: float) -> bool:
        if math.isnan(value):
            return False
        if self.best_value is None:
            return True
        return value < self.best_value if self.monitor_mode == "min" else value > self.best_value

    def load(self, path: str | Path) -> None:
        """Restore everything a checkpoint holds; the next step continues exactly where it stopped.

        The weights, the optimizers' moments, the step, the data position, the RNG and the best
        value come from the checkpoint; the *settings* come from this run's config: each
        optimizer keeps the hyper-parameters it was built with (lr, betas, weight decay...), and
        each lr schedule is this run's, replayed to the checkpoint's step (a raised
        ``trainer.max_steps`` stretches a cosine schedule instead of restarting its climb). With
        the same settings this is the uninterrupted run, bit for bit. Another optimizer class
        continues from the checkpoint's moments where they are the same state (Adam and AdamW),
        else the resume is refused. Start-up logs every setting that differs from the checkpoint's.
        """
        state = load_checkpoint(path, map_location=self.device)
        self._check_same_model(path, state)
        stored = self._stored_config(path, state)
        self.task.load_state_dict(state["task"])
        for k, o in self.optimizers.items():
            if k in state["optimizers"]:
                self._load_optimizer(path, k, o, state["optimizers"][k], state, stored)
        for sched in self.schedulers.values():
            self._replay_schedule(sched, int(state["step"]))
        self._say_what_differs(path, stored)
        for k, sc in self.scalers.items():
            if k in state["scalers"] and state["scalers"][k]:
                sc.load_state_dict(state["scalers"][k])
        if self.ema is not None and state.get("ema"):
            self.ema.load_state_dict(state["ema"])
        self.step = int(state["step"])
        self.best_value = state.get("best", {}).get("value")
        set_rng_state(state["rng"])
        self._train_iter = None
        self.task.on_load()
        log.info("resumed from %s at step %d", path, self.step)

    @staticmethod
    def _stored_config(path: str | Path, state: dict[str, Any]) -> dict[str, Any]:
        """The checkpoint's config as plain data ({} when it stores none)."""
        if not state.get("config"):
            return {}
        from tsb.training.checkpoint import checkpoint_config

        plain = OmegaConf.to_container(checkpoint_config(state, path), resolve=False)
        return {str(k): v for k, v in plain.items()} if isinstance(plain, dict) else {}

    def _optimizer_class_of(self, group: str, state: dict[str, Any], stored: dict[str, Any]) -> str | None:
        """The class name of the optimizer that wrote ``group``'s state (None: not recorded)."""
        recorded = (state.get("optimizer_classes") or {}).get(group)
        if recorded:
            return str(recorded)
        node = stored.get("optimizer") or {}
        node = node.get(group) or node.get("default") or {}
        target = node.get("_target_") if isinstance(node, dict) else None
        return str(target).rpartition(".")[2] if target else None

    def _load_optimizer(
        self,
        path: str | Path,
        group: str,
        opt: torch.optim.Optimizer,
        saved: dict[str, Any],
        state: dict[str, Any],
        stored: dict[str, Any],
    ) -> None:
        """``saved``'s moments into ``opt``, which keeps its own hyper-parameters (see :meth:`load`)."""
        was, now = self._optimizer_class_of(group, state, stored), type(opt).__name__
        if was is not None and was != now and not any({was, now} <= f for f in SAME_OPTIMIZER_STATE):
            key = group if self.optimizer_cfg.get(group, None) is not None else "default"
            raise ConfigError(
                f"{path} holds the state of a {was} optimizer for parameter group {group!r}; this run's "
                f"optimizer.{key} is {now}, which cannot continue from it. Resume with the optimizer "
                "that wrote it, or start fresh with ckpt_path=null (or another run folder)"
            )
        own = [{k: v for k, v in g.items() if k != "params"} for g in opt.param_groups]
        try:
            opt.load_state_dict(saved)
        except (ValueError, KeyError) as e:
            raise CheckpointError(
                f"{path}: the optimizer state of parameter group {group!r} does not fit this run's "
                f"parameters ({e}); resume with the model that wrote it, or start fresh with ckpt_path=null"
            ) from e
        for g, settings in zip(opt.param_groups, own):
            g.update(settings)
        if was is not None and was != now and self.is_main:
            log.info("parameter group %r: %s continues from the checkpoint's %s moments", group, now, was)

    def _replay_schedule(self, sched: Any, steps: int) -> None:
        """Put this run's lr schedule at ``steps`` (its lr as if it had run from the start): the
        same ``step()`` calls as the uninterrupted run, so the same numbers."""
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "lr_scheduler.step() before optimizer.step()"
            for _ in range(steps):
                sched.step()

    def _say_what_differs(self, path: str | Path, stored: dict[str, Any]) -> None:
        """Log the optimizer, trainer, loss and data settings of this run that differ from the
        checkpoint's (they apply: see :meth:`load`)."""
        if not self.is_main or not stored:
            return
        differ = []
        for section in ("optimizer", "trainer", "loss", "data"):
            theirs, ours = _flat(stored.get(section)), _flat(self.config.get(section))
            for key in sorted(set(theirs) | set(ours)):
                if theirs.get(key, _ABSENT) != ours.get(key, _ABSENT):
                    was = "none" if theirs.get(key, _ABSENT) is _ABSENT else repr(theirs[key])
                    now = "none" if ours.get(key, _ABSENT) is _ABSENT else repr(ours[key])
                    differ.append(f"{section}.{key}={now} instead of the checkpoint's {was}")
        if differ:
            log.info("resuming from %s with this run's settings, not the checkpoint's: %s", path, "; ".join(differ))

    # ------------------------------------------------------------------------------ logging
    def _log(self, scalars: dict[str, float]) -> None:
        if not self.is_main:
            return
        for lg in self.loggers:
            lg.log_metrics(scalars, self.step)

    def _profiler(self) -> Any:
        if not self.profile or not self.is_main:
            return None
        from torch.profiler import ProfilerActivity, profile, schedule, tensorboard_trace_handler

        acts = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if self.device.type == "cuda" else [])
        out = self.run_dir / "profile"
        out.mkdir(parents=True, exist_ok=True)
        return profile(
            activities=acts,
            schedule=schedule(wait=2, warmup=2, active=6, repeat=1),
            on_trace_ready=tensorboard_trace_handler(str(out)),
            record_shapes=True,
        )

    def _finish(self) -> dict[str, float]:
        summary: dict[str, Any] = {
            "step": self.step,
            "wall_s": round(time.time() - self._start_time, 2),
            **self.last_train_logs,
            **self.last_val_logs,
        }
        if self.monitor is not None and self.best_value is not None:
            summary[f"best/{self.monitor}"] = self.best_value
        if self.is_main:
            if self.export_path:
                self.export(self.export_path)
            path = self.run_dir / "summary.json"
            path.write_text(json.dumps(summary, indent=2))
            self.storage.upload(path, "summary.json")
            metrics = self.run_dir / "metrics.jsonl"
            if metrics.exists():
                self.storage.upload(metrics, "metrics.jsonl")
            for lg in self.loggers:
                lg.finish()
            self.storage.flush()
        return summary

    def export(self, path: str | Path) -> Path:
        """Write the task's inference weights (EMA applied) to ``path`` via the task's ``export``."""
        exporter = getattr(self.task, "export", None)
        if exporter is None:
            raise ConfigError(f"trainer.export_path is set but {type(self.task).__name__} has no export()")
        ctx = self.ema.applied() if self.ema is not None else contextlib.nullcontext()
        with ctx:
            out = Path(exporter(Path(path)))
        log.info("exported %s", out)
        return out


#: optimizer classes whose per-parameter state is the same (moments of the same names and meaning):
#: a run resumed with one of them continues from the other's checkpoint
SAME_OPTIMIZER_STATE: tuple[frozenset[str], ...] = (frozenset({"Adam", "AdamW"}),)
_ABSENT = object()


def _flat(node: Any, prefix: str = "") -> dict[str, Any]:
    """``{"default.lr": 0.002, ...}`` of a nested config section (lists as tuples)."""
    if not isinstance(node, Mapping):
        return {}
    out: dict[str, Any] = {}
    for k, v in node.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = tuple(v) if isinstance(v, list) else v
    return out


__all__ = ["Trainer", "move_batch", "select_device"]
