"""Datasets and mini-batches: the `Dataset` protocol, `TensorDataset`, `default_collate` and `DataLoader`."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from autograd import Tensor
from autograd.random import as_generator


@runtime_checkable
class Dataset(Protocol):
    """Anything with a length and integer indexing that returns one sample (a tuple of arrays or tensors)."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> Any: ...


class TensorDataset:
    """Samples from equally long tensors: item i is (a[i], b[i], ...), as Tensors, as in PyTorch.

    Numpy arrays (and anything `np.asarray` takes) are accepted too and wrapped as Tensors
    sharing their memory; Tensors are kept as given. They are in `self.tensors`.
    """

    def __init__(self, *tensors: Any):
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor or array")
        self.tensors: tuple[Tensor, ...] = tuple(t if isinstance(t, Tensor) else Tensor(np.asarray(t)) for t in tensors)
        for t in self.tensors:
            if t.ndim == 0:
                raise ValueError("TensorDataset needs tensors with a first (sample) dimension, got a 0-d one")
        lengths = {len(t) for t in self.tensors}
        if len(lengths) != 1:
            raise ValueError(
                f"TensorDataset tensors must be equally long, got lengths {[len(t) for t in self.tensors]}"
            )

    def __len__(self) -> int:
        return len(self.tensors[0])

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)


def default_collate(batch: Sequence[Any]) -> Any:
    """PyTorch's default collation: a list of samples as one batch, stacked along a new first dimension.

    Tensors, numpy arrays and numbers become one stacked Tensor (Python floats float64, ints
    int64, bools bool, as in PyTorch); tuples and lists are collated field by field (returned
    as a tuple), dicts key by key; strings and anything else stay a list.
    """
    if not batch:
        raise ValueError("default_collate needs at least one sample")
    first = batch[0]
    if isinstance(first, (Tensor, np.ndarray, np.generic)):
        return Tensor(np.stack([s.data if isinstance(s, Tensor) else np.asarray(s) for s in batch]))
    if isinstance(first, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(first, Mapping):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        sizes = {len(sample) for sample in batch}
        if len(sizes) != 1:
            raise ValueError(f"default_collate: each sample must have the same number of fields, got {sorted(sizes)}")
        return tuple(default_collate(field) for field in zip(*batch))
    return list(batch)


class DataLoader:
    """Mini-batches of a dataset; each epoch covers every sample once, as PyTorch's DataLoader.

    By default each batch is `default_collate` of its samples: for a TensorDataset (or samples
    that are tuples of arrays) a tuple of Tensors. `collate_fn` replaces it: it is given the list
    of samples and its result is yielded as is. A TensorDataset with the default collation is
    indexed once per batch (all its tensors at once), not sample by sample.

    `shuffle=True` reorders each epoch with `generator` (an autograd or numpy Generator, shared
    and advanced as PyTorch's is), or with a generator of the loader's own seeded by `seed`, or
    else with autograd's default generator, so `autograd.manual_seed` makes the order repeat.
    `sampler` (an iterable of indices, read anew each epoch) replaces shuffling.
    `drop_last=True` skips a final batch smaller than `batch_size`.

    Workers run in-process: `num_workers` (>= 0) is accepted and batches are made in the calling
    process, in order, as with num_workers=0 (so `worker_init_fn` is never called, as there).
    `pin_memory`, `timeout`, `prefetch_factor` and `persistent_workers` are accepted and have no
    effect on the CPU.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool | None = False,
        sampler: Iterable[int] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], Any] | None = None,
        generator: np.random.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        seed: int | None = None,
    ):
        if isinstance(batch_size, (bool, np.bool_)) or not isinstance(batch_size, (int, np.integer)):
            raise TypeError(f"batch_size must be a positive integer, got {batch_size!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        if isinstance(num_workers, (bool, np.bool_)) or not isinstance(num_workers, (int, np.integer)):
            raise TypeError(f"num_workers must be an integer >= 0, got {num_workers!r}")
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0 (0 makes batches in the calling process), got {num_workers}")
        if timeout < 0:
            raise ValueError(f"timeout must be >= 0, got {timeout}")
        if num_workers == 0 and (prefetch_factor is not None or persistent_workers):
            raise ValueError("prefetch_factor and persistent_workers need num_workers > 0, as in PyTorch")
        if sampler is not None and shuffle:
            raise ValueError("sampler and shuffle=True cannot both be given: the sampler sets the order")
        if generator is not None and seed is not None:
            raise ValueError("give generator or seed, not both")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"collate_fn must be callable, got {type(collate_fn).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.sampler = sampler
        self.num_workers = int(num_workers)
        self.collate_fn = collate_fn
        self.pin_memory = pin_memory
        self.drop_last = drop_last
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self._rng = np.random.default_rng(seed) if seed is not None else as_generator(generator)

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self) -> np.ndarray:
        if self.sampler is not None:
            return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)
        n = len(self.dataset)
        return self._rng.permutation(n) if self.shuffle else np.arange(n)

    def __iter__(self) -> Iterator[Any]:
        order = self._order()
        fast = isinstance(self.dataset, TensorDataset) and self.collate_fn in (None, default_collate)
        collate = self.collate_fn or default_collate
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            if self.drop_last and len(batch) < self.batch_size:
                return
            if fast:  # index every tensor once for the whole batch
                yield tuple(Tensor(t.data[batch]) for t in self.dataset.tensors)  # type: ignore[attr-defined]
            else:
                yield collate([self.dataset[int(i)] for i in batch])
