"""Training data: the shard folder's token stream packed into fixed-length sequences.

Articles are already concatenated in the shards (each starts with BOS where the
tokenizer puts one), so sequence ``j`` is simply tokens ``[j*L, j*L + L + 1)`` of the
stream: ``L`` inputs and the ``L`` next tokens as labels, articles carried over across
sequence boundaries and every token a target exactly once per epoch (label -100 where
the loss mask is 0). Each epoch draws a seeded permutation of the sequences; rank ``r``
of ``W`` reads its own contiguous part of it, so ranks never share a sequence. The data
position is two integers (epoch, sequences consumed), saved with every checkpoint: a
resumed run continues with the next sequence and replays nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from leia.shards import ShardSet

IGNORE = -100


@dataclass
class DataState:
    epoch: int = 0
    consumed: int = 0  # sequences this rank has read in this epoch

    def to_dict(self) -> dict:
        return asdict(self)


class PackedSequences:
    def __init__(self, shards: ShardSet, seq_len: int, rank: int = 0, world: int = 1,
                 seed: int = 42):
        self.shards, self.seq_len = shards, seq_len
        self.rank, self.world, self.seed = rank, world, seed
        self.total = (shards.num_tokens - 1) // seq_len
        self.per_rank = self.total // world
        if self.per_rank < 1:
            raise ValueError(
                f"{shards.root} holds {shards.num_tokens:,} tokens: not one sequence of "
                f"{seq_len} tokens (+1 label) for each of {world} rank(s); encode more "
                "text or lower --seq-len")
        self.state = DataState()
        self._epoch, self._order = -1, None

    def _rank_order(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            perm = np.random.default_rng([self.seed, epoch]).permutation(self.total)
            self._order = perm[self.rank * self.per_rank:(self.rank + 1) * self.per_rank]
            self._epoch = epoch
        return self._order

    def sequence(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, labels) of sequence ``j`` of the stream, int64."""
        tokens, mask = self.shards.read(j * self.seq_len, j * self.seq_len + self.seq_len + 1)
        inputs = tokens[:-1].astype(np.int64)
        labels = np.where(mask[1:] != 0, tokens[1:].astype(np.int64), IGNORE)
        return inputs, labels

    def next_batch(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """The next ``size`` sequences of this rank, as [size, L] arrays."""
        inputs = np.empty((size, self.seq_len), dtype=np.int64)
        labels = np.empty((size, self.seq_len), dtype=np.int64)
        for b in range(size):
            if self.state.consumed == self.per_rank:
                self.state = DataState(self.state.epoch + 1, 0)
            j = int(self._rank_order(self.state.epoch)[self.state.consumed])
            inputs[b], labels[b] = self.sequence(j)
            self.state.consumed += 1
        return inputs, labels

    def load_state(self, state: dict) -> None:
        self.state = DataState(**state)
