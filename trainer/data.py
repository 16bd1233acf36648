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

The first epoch reads the stream as the encoder wrote it. Each later epoch first packs
it anew with the documents in a seeded order (as Megatron-LM shuffles documents per
epoch): otherwise every article would follow the same article in every epoch, and a
model trained for many epochs on a small corpus learns to recall a fact from the text
before the article rather than from the article's subject (measured in
docs/effect.md: 89% of the seen facts recalled after the preceding text, 52% without).
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
        self._epoch, self._perm, self._packing = -1, None, None
        self._doc_starts = shards.document_starts()
        self._doc_lengths = np.diff(np.append(self._doc_starts, shards.num_tokens))

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.total)
            self._packing = None if epoch == 0 else self._pack(epoch)
            self._epoch = epoch
        return self._perm

    def _pack(self, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """The documents' order in this epoch's stream, and where each begins in it."""
        order = np.random.default_rng([self.seed, epoch, 1]).permutation(
            len(self._doc_starts))
        return order, np.concatenate([[0], np.cumsum(self._doc_lengths[order])])

    def _read(self, lo: int, hi: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
        """Positions [lo, hi) of the epoch's stream."""
        if epoch == 0:
            return self.shards.read(lo, hi)
        self._permutation(epoch)
        order, begins = self._packing
        toks, masks = [], []
        k = int(np.searchsorted(begins, lo, side="right")) - 1
        while lo < hi:
            start = int(self._doc_starts[order[k]]) + lo - int(begins[k])
            take = min(hi, int(begins[k + 1])) - lo
            t, m = self.shards.read(start, start + take)
            toks.append(t)
            masks.append(m)
            lo, k = lo + take, k + 1
        return np.concatenate(toks), np.concatenate(masks)

    def sequence(self, j: int, epoch: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """(inputs, labels) of sequence ``j`` of the epoch's stream, int64."""
        lo = j * self.seq_len
        tokens, mask = self._read(lo, lo + self.seq_len + 1, epoch)
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
            pairs = [self.sequence(int(j), self.state.epoch)
                     for j in mine[lo:lo + micro_batch]]
            out.append((np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])))
        return out

    def load_state(self, state: dict) -> None:
        self.state = DataState(**state)
