"""The encoder's output folder: the shards written by the executors, what a re-run keeps
(complete, verified shards of the same build), the tokenizer saved beside the shards,
and files an earlier build left that the manifest does not list. The shard format
itself is ``leia.shards``'s."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from leia import shards as fmt
from leia import storage


@dataclass
class DoneShards:
    """Shards of an earlier run of the same build that are complete and verified."""

    records: list[dict]

    @property
    def indices(self) -> set[int]:
        return {r["index"] for r in self.records}

    @property
    def shards(self) -> int | None:
        """The shard count of that build (the same for all its shards)."""
        return self.records[0]["shards"] if self.records else None

    @property
    def tokens(self) -> int:
        return sum(r["tokens"] for r in self.records)


def find_done(spark, out: str, fingerprint: str) -> DoneShards:
    """Completion records of this build already in ``out``, checked (sizes and sha256)
    on the executors in parallel."""
    from pyarrow import fs as pafs

    fs, base = storage.filesystem(out)
    if fs.get_file_info(base).type != pafs.FileType.Directory:
        return DoneShards([])
    infos = fs.get_file_info(pafs.FileSelector(base))
    records = [storage.read_json(fs, i.path) for i in infos if i.base_name.endswith(".done.json")]
    records = [r for r in records if r and r.get("fingerprint") == fingerprint]
    if not records:
        return DoneShards([])
    ok = (spark.sparkContext.parallelize(records, min(len(records), 64))
          .filter(lambda r: fmt.shard_complete(out, r, verify=True)).collect())
    return DoneShards(sorted(ok, key=lambda r: r["index"]))


def write_shards(encoded, shards: int, out: str, dtype: str,
                 wiki_index: dict[str, int], fingerprint: str) -> list[dict]:
    """Bring each shard's articles together in (wiki, page id) order and write them
    (executors write straight to ``out``); returns the shards' completion records.
    A task may get more than one shard (hash partitioning); it writes them in turn."""
    import itertools

    def write(batches):
        import numpy as np
        import pyarrow as pa

        def rows():
            for b in batches:
                yield from zip(*(b.column(c).to_pylist() for c in
                                 ("shard", "wiki", "page_id", "n_tokens", "tokens", "mask",
                                  "placed", "moved", "dropped")))

        for shard, group in itertools.groupby(rows(), key=lambda r: r[0]):
            stats = {"placed": 0, "moved": 0, "dropped": 0, "empty_documents": 0,
                     "per_wiki": {}}

            def docs(group=group, stats=stats):
                for _, wiki, page_id, n, tokens, mask, placed, moved, dropped in group:  # noqa: B031 - read once
                    stats["placed"] += placed
                    stats["moved"] += moved
                    stats["dropped"] += dropped
                    if n == 0:
                        stats["empty_documents"] += 1
                        continue
                    per = stats["per_wiki"].setdefault(wiki, [0, 0])
                    per[0] += 1
                    per[1] += n
                    yield fmt.DocumentTokens(wiki_index[wiki], page_id,
                                             np.frombuffer(tokens, dtype=dtype),
                                             np.frombuffer(mask, dtype=np.uint8))

            record = fmt.write_shard(
                out, fmt.shard_name(shard), docs(), dtype,
                extra=lambda shard=shard, stats=stats: {
                    "index": shard, "shards": shards, "fingerprint": fingerprint, **stats})
            yield pa.RecordBatch.from_pydict({"record": [json.dumps(record)]})

    written = (encoded.repartition(shards, "shard")
               .sortWithinPartitions("shard", "wiki", "page_id")
               .mapInArrow(write, "record STRING"))
    return [json.loads(r.record) for r in written.collect()]


def save_tokenizer(tok, out: str) -> None:
    """The tokenizer with the markers, next to the shards, so the trainer and readers
    use exactly the ids the shards were made with."""
    fs, base = storage.filesystem(out)
    with tempfile.TemporaryDirectory() as tmp:
        tok.save_pretrained(tmp)
        fs.create_dir(base + "/tokenizer", recursive=True)
        for f in sorted(Path(tmp).iterdir()):
            storage.write_bytes_atomic(fs, f"{base}/tokenizer/{f.name}", [f.read_bytes()])


def remove_stale(out: str, keep: set[str]) -> int:
    """Delete shard files and temporaries in ``out`` that the manifest does not list
    (from an earlier, different build, or a crashed attempt)."""
    from pyarrow import fs as pafs

    fs, base = storage.filesystem(out)
    removed = 0
    for info in fs.get_file_info(pafs.FileSelector(base)):
        name = info.base_name
        ours = name.startswith("shard-") or (name.startswith(".shard-")
                                             and name.endswith(".tmp"))
        if info.type == pafs.FileType.File and ours and name not in keep:
            fs.delete_file(info.path)
            removed += 1
    return removed
