"""Training data: the shard folder's token stream packed into fixed-length sequences.

Articles are already concatenated in the shards (each starts with BOS where the
tokenizer puts one), so sequence ``j`` is simply tokens ``[j*L, j*L + L + 1)`` of the
stream: ``L`` inputs and the ``L`` next tokens as labels, articles carried over across
sequence boundaries and every token a target exactly once per epoch (label -100 where
the loss mask is 0). Each epoch draws a seeded permutation of the sequences; each step
takes the next ``global_batch`` of them, and rank ``r`` of ``W`` reads its own slice of
that, so ranks never share a sequence and a step trains on the same sequences whatever
the number of ranks. The data position is two integers (epoch, sequences consumed),
saved with every checkpoint: a resumed run continues with the next sequence and
replays nothing, also on another number of ranks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from leia.shards import ShardSet

IGNORE = -100


@dataclass
class DataState:
    epoch: int = 0
    consumed: int = 0  # sequences of this epoch's permutation used, over all ranks

    def to_dict(self) -> dict:
        return asdict(self)


class PackedSequences:
    def __init__(self, shards: ShardSet, seq_len: int, rank: int = 0, world: int = 1,
                 seed: int = 42):
        self.shards, self.seq_len = shards, seq_len
        self.rank, self.world, self.seed = rank, world, seed
        self.total = (shards.num_tokens - 1) // seq_len
        self.state = DataState()
        self._epoch, self._perm = -1, None

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.total)
            self._epoch = epoch
        return self._perm

    def sequence(self, j: int) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, labels) of sequence ``j`` of the stream, int64."""
        tokens, mask = self.shards.read(j * self.seq_len, j * self.seq_len + self.seq_len + 1)
        inputs = tokens[:-1].astype(np.int64)
        labels = np.where(mask[1:] != 0, tokens[1:].astype(np.int64), IGNORE)
        return inputs, labels

    def next_step(self, global_batch: int, micro_batch: int
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
        """This rank's micro-batches ([micro_batch, L] inputs and labels) of the next
        step's ``global_batch`` sequences."""
        if global_batch > self.total:
            raise ValueError(
                f"{self.shards.root} holds {self.total:,} sequences of {self.seq_len} "
                f"tokens, fewer than one global batch of {global_batch}: encode more text "
                "or lower --global-batch / --seq-len")
        if self.state.consumed + global_batch > self.total:
            self.state = DataState(self.state.epoch + 1, 0)
        perm = self._permutation(self.state.epoch)
        per_rank = global_batch // self.world
        start = self.state.consumed + self.rank * per_rank
        mine = perm[start:start + per_rank]
        self.state.consumed += global_batch
        out = []
        for lo in range(0, per_rank, micro_batch):
            pairs = [self.sequence(int(j)) for j in mine[lo:lo + micro_batch]]
            out.append((np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])))
        return out

    def load_state(self, state: dict) -> None:
        self.state = DataState(**state)
