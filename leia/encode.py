"""The paper's token layout, as pure functions over a ``tokenizers.Tokenizer``.

Each article is tokenised once, with offsets, as the tokenizer does for the model (its
BOS first). Each inserted name is tokenised on its own, without special tokens, and
spliced in between the two marker tokens at the token boundary that matches the
insertion's character offset. The article's own text never produces marker tokens, even
when it contains the marker strings, because insertions are carried as offsets.

An offset that falls inside a token (a name after an anchor whose last character shares a
token with the next word, common in languages written without spaces) cannot be honoured
exactly. With ``off_boundary="move"`` the insertion goes to the nearest token boundary;
with ``"drop"`` it is left out. Either way it is counted, never silently misplaced.

The articles may be tokenised by a tiktoken twin of the tokenizer instead
(``leia.fast_bpe``; byte-level and SentencePiece BPE), with the same ids and the
character offsets rebuilt from the tokens' bytes.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

import numpy as np

from .params import strategy as strategy_of

OFF_BOUNDARY = ("move", "drop")
ENGINES = ("auto", "tokenizers")

# Loss-mask policies (what a 0 in the mask means for the trainer: not a target).
MASK_MARKERS = "markers"               # the two markers are never targets (the paper)
MASK_MARKERS_AND_NAMES = "markers+names"  # nor are the inserted names' tokens
MASK_NONE = "none"                     # the no-augmentation baseline: nothing inserted
MASK_POLICIES = (MASK_MARKERS, MASK_MARKERS_AND_NAMES, MASK_NONE)


@dataclass(frozen=True)
class TokenLayout:
    """What the encoder needs from a tokenizer, as small picklable values, so executors
    need only the ``tokenizers`` package (not transformers, not the hub)."""

    tokenizer_json: str
    """The backend tokenizer, serialised, with the two markers already added."""
    prefix: tuple[int, ...]
    """Ids the tokenizer puts before a text for the model (BOS for Llama)."""
    suffix: tuple[int, ...]
    """Ids it puts after (EOS for some models, none for Llama)."""
    start_id: int
    end_id: int
    eos_id: int | None = None
    twin: str | None = None
    """The kind of tiktoken twin that can stand in for this tokenizer ("byte-level" or
    "sentencepiece", ``leia.fast_bpe.twin_kind``); None: ``tokenizers`` encodes the
    articles."""
    twin_refusal: str = ""
    """Why tiktoken cannot stand in for this tokenizer ("" when it can), for logs."""


@dataclass(frozen=True)
class Placement:
    """Where one insertion went, in the article's characters (for checks and notebooks).
    ``start == end`` except for ``replace``, whose anchor characters are not rendered."""

    start: int
    end: int
    name: str
    moved: bool


@dataclass
class EncodedDoc:
    tokens: np.ndarray  # uint32; the shard writer narrows it to the manifest's dtype
    mask: np.ndarray    # uint8, 0 = not a training target
    placements: list[Placement] = field(default_factory=list)
    moved: int = 0
    dropped: int = 0

    @property
    def placed(self) -> int:
        return len(self.placements)

    def same_as(self, other: "EncodedDoc") -> bool:
        return (np.array_equal(self.tokens, other.tokens)
                and np.array_equal(self.mask, other.mask)
                and self.placements == other.placements
                and (self.moved, self.dropped) == (other.moved, other.dropped))


def render_placements(text: str, placements: list[Placement],
                      markers: tuple[str, str]) -> str:
    """The article as the tokens spell it: ``text`` with each placed name between the
    markers (the anchor characters removed for ``replace``)."""
    out, pos = [], 0
    for p in placements:
        out.append(text[pos:p.start])
        out.append(f"{markers[0]}{p.name}{markers[1]}")
        pos = p.end
    out.append(text[pos:])
    return "".join(out)


class _Boundaries:
    """Token boundaries of one tokenised text in character space. Boundary ``j`` sits
    before token ``j`` (``j == n``: after the last). It is usable when token ``j-1`` ends
    at or before token ``j`` starts: tokens that share a character (the bytes of one
    character split by byte-level BPE or byte fallback) have no usable boundary between
    them."""

    def __init__(self, starts, ends):
        self.starts, self.ends = starts, ends  # each token's characters, as offsets
        self.n = len(starts)

    @classmethod
    def from_offsets(cls, offsets: list[tuple[int, int]]) -> "_Boundaries":
        return cls([s for s, _ in offsets], [e for _, e in offsets])

    def usable(self, j: int) -> bool:
        return j == 0 or j == self.n or self.ends[j - 1] <= self.starts[j]

    def position(self, j: int) -> int:
        return 0 if j == 0 else int(self.ends[j - 1])

    def locate(self, c: int, prefer_later: bool) -> tuple[int, int, bool]:
        """(boundary, its character position, exact) for character offset ``c``."""
        k = bisect_left(self.starts, c)  # first token starting at or after c
        if k == 0 or self.ends[k - 1] <= c:
            return k, c, True
        back = k - 1
        while not self.usable(back):
            back -= 1
        fwd = k
        while not self.usable(fwd):
            fwd += 1
        d_back, d_fwd = c - self.position(back), self.position(fwd) - c
        if d_fwd < d_back or (d_fwd == d_back and prefer_later):
            return fwd, self.position(fwd), False
        return back, self.position(back), False


class Encoder:
    """Tokenises articles and splices their insertions in; holds a cache of name ids
    (names repeat across articles: a country is linked from thousands of pages).
    ``engine="auto"`` tokenises the articles with the tiktoken twin where the layout
    has one (and tiktoken is installed), ``"tokenizers"`` always with the tokenizer's
    own engine; ``self.engine`` says which runs. Names always go through
    ``tokenizers`` (they are few and cached)."""

    def __init__(self, layout: TokenLayout, mask_policy: str = MASK_MARKERS,
                 off_boundary: str = "move", append_eos: bool = False,
                 engine: str = "auto"):
        from tokenizers import Tokenizer

        if mask_policy not in MASK_POLICIES:
            raise ValueError(f"mask policy {mask_policy!r}: use one of "
                             f"{', '.join(MASK_POLICIES)}")
        if off_boundary not in OFF_BOUNDARY:
            raise ValueError(f"off_boundary {off_boundary!r}: use move or drop")
        if append_eos and layout.eos_id is None:
            raise ValueError("append_eos: this tokenizer has no EOS token")
        if engine not in ENGINES:
            raise ValueError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
        self.layout = layout
        self.mask_policy = mask_policy
        self.off_boundary = off_boundary
        self.tok = Tokenizer.from_str(layout.tokenizer_json)
        # Article text is data: "<translate>" written in an article must stay text.
        self.tok.encode_special_tokens = True
        self._names: dict[str, np.ndarray] = {}
        suffix = list(layout.suffix) + ([layout.eos_id] if append_eos else [])
        self._prefix = np.asarray(layout.prefix, dtype=np.uint32)
        self._suffix = np.asarray(suffix, dtype=np.uint32)
        self._start = np.asarray([layout.start_id], dtype=np.uint32)
        self._end = np.asarray([layout.end_id], dtype=np.uint32)
        self._fast = None
        if engine == "auto" and layout.twin is not None:
            try:
                from .fast_bpe import make_twin
                self._fast = make_twin(layout.tokenizer_json, layout.twin)
            except ImportError:  # tiktoken is an accelerator, not a requirement
                pass
        self.engine = "tiktoken" if self._fast is not None else "tokenizers"

    def name_ids(self, names) -> None:
        """Tokenise the names not yet cached, in one batch."""
        todo = sorted({n for n in names if n not in self._names})
        if todo:
            for name, enc in zip(todo, self.tok.encode_batch(todo,
                                                             add_special_tokens=False)):
                self._names[name] = np.asarray(enc.ids, dtype=np.uint32)
        if len(self._names) > 1_000_000:  # bound the memory of a long-running worker
            self._names.clear()

    def encode(self, texts: list[str], insertions: list[list[tuple[int, str, int, int]]],
               strategies: list[str], engine: str | None = None) -> list[EncodedDoc]:
        """Encode a batch of articles. ``insertions[i]``: (offset, name, anchor_start,
        anchor_end) in text order, as in the ``augmented`` table. ``engine``:
        "tokenizers" forces the reference engine (to check the tiktoken twin)."""
        augment = self.mask_policy != MASK_NONE
        if augment:
            self.name_ids(ins[1] for doc in insertions for ins in doc)
        out = []
        spliced = [augment and bool(ins) for ins in insertions]
        for (ids, bounds), splice, ins, strategy in zip(
                self._tokenize(texts, spliced, engine or self.engine), spliced,
                insertions, strategies):
            out.append(self._splice(ids, bounds, ins, strategy) if splice
                       else self._plain(ids))
        return out

    def _tokenize(self, texts: list[str], spliced: list[bool], engine: str):
        """Per text: its ids, and a function giving its token boundaries (used only for
        the articles that get insertions, ``spliced``)."""
        if engine == "tiktoken":
            fast = self._fast
            for text in texts:
                ids = fast.encode(text)
                yield ids, lambda text=text, ids=ids: _Boundaries(*fast.offsets(text, ids))
            return
        # Offsets cost tokenizers a third of its time on SentencePiece models: articles
        # that get no insertion (all of them for the baseline) are encoded without.
        with_offsets = iter(self.tok.encode_batch(
            [t for t, s in zip(texts, spliced) if s], add_special_tokens=False))
        without = iter(self.tok.encode_batch_fast(
            [t for t, s in zip(texts, spliced) if not s], add_special_tokens=False))
        for s in spliced:
            enc = next(with_offsets if s else without)
            yield (np.asarray(enc.ids, dtype=np.uint32),
                   lambda enc=enc: _Boundaries.from_offsets(enc.offsets))

    def _plain(self, ids: np.ndarray) -> EncodedDoc:
        if len(ids) == 0:
            return EncodedDoc(np.zeros(0, np.uint32), np.zeros(0, np.uint8))
        tokens = np.concatenate([self._prefix, ids, self._suffix])
        return EncodedDoc(tokens, np.ones(len(tokens), dtype=np.uint8))

    def _splice(self, ids: np.ndarray, boundaries, insertions, strategy: str
                ) -> EncodedDoc:
        where = strategy_of(strategy)
        if len(ids) == 0:
            return self._plain(ids)
        bounds = boundaries()
        # (token cut, token resume, placement) in order; resume > cut only for replace.
        cuts: list[tuple[int, int, Placement]] = []
        moved = dropped = 0
        for offset, name, anchor_start, anchor_end in insertions:
            if not where.keeps_anchor:
                k0, c0, exact0 = bounds.locate(anchor_start, prefer_later=False)
                k1, c1, exact1 = bounds.locate(anchor_end, prefer_later=True)
                exact = exact0 and exact1
            else:
                k0, c0, exact = bounds.locate(offset, prefer_later=not where.before_anchor)
                k1, c1 = k0, c0
            if not exact and self.off_boundary == "drop":
                dropped += 1
                continue
            if cuts and (k0 < cuts[-1][1] or c0 < cuts[-1][2].end):
                dropped += 1  # moved onto a neighbour's replaced span
                continue
            moved += not exact
            cuts.append((k0, k1, Placement(c0, c1, name, not exact)))

        mask_names = self.mask_policy == MASK_MARKERS_AND_NAMES
        pieces, masks = [self._prefix], [np.ones(len(self._prefix), np.uint8)]
        pos = 0
        for cut, resume, placement in cuts:
            name = self._names[placement.name]
            pieces += [ids[pos:cut], self._start, name, self._end]
            masks += [np.ones(cut - pos, np.uint8), np.zeros(1, np.uint8),
                      np.full(len(name), 0 if mask_names else 1, np.uint8),
                      np.zeros(1, np.uint8)]
            pos = resume
        pieces += [ids[pos:], self._suffix]
        masks += [np.ones(len(ids) - pos + len(self._suffix), np.uint8)]
        return EncodedDoc(np.concatenate(pieces), np.concatenate(masks),
                          [c[2] for c in cuts], moved, dropped)


_ENCODERS: dict[tuple, Encoder] = {}


def cached_encoder(layout: TokenLayout, mask_policy: str, off_boundary: str,
                   append_eos: bool) -> Encoder:
    """One Encoder per worker process and settings: building the tokenizer from its
    JSON takes a while for large vocabularies, and the name cache pays off across
    partitions."""
    import hashlib

    key = (hashlib.sha256(layout.tokenizer_json.encode()).hexdigest(), layout.prefix,
           layout.suffix, layout.start_id, layout.end_id, layout.eos_id, layout.twin,
           mask_policy, off_boundary, append_eos)
    if key not in _ENCODERS:
        _ENCODERS.clear()
        _ENCODERS[key] = Encoder(layout, mask_policy, off_boundary, append_eos)
    return _ENCODERS[key]
