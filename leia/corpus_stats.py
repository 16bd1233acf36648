"""What the augmentation did, per wiki, from the Delta tables (and the shard manifests):
the figures of ``notebooks/augmentation_stats.ipynb``, as functions a notebook or a
script calls. Reads with ``deltalake`` (delta-rs), so no Spark session or cluster is
needed; only the columns asked for are read, and ``wikis`` reads only those partitions.
"""

from __future__ import annotations

import html
import json
import random
from pathlib import Path

from .params import DEFAULT_MARKERS
from .shards import MANIFEST, Manifest
from .tables import PARTITION_COLUMN


def read_table(root: str | Path, name: str, columns: list[str] | None = None,
               wikis: list[str] | None = None):
    """One table of a corpus as a pandas DataFrame."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    path = f"{str(root).rstrip('/')}/{name}"
    try:
        table = DeltaTable(path)
    except TableNotFoundError:
        raise ValueError(f"no Delta table at {path}: build the corpus first "
                         f"(python spark_jobs/augment.py --out {root})") from None
    where = [(PARTITION_COLUMN, "in", list(wikis))] if wikis else None
    return table.to_pandas(columns=columns, filters=where)


def latest_stats(root, wikis=None):
    """The ``stats`` row of each wiki's most recent run."""
    st = read_table(root, "stats", wikis=wikis)
    return (st.sort_values("run_started").groupby("wiki").tail(1)
            .set_index("wiki").sort_index())


def shard_tokens(shard_dir: str | Path | None) -> dict[str, int]:
    """Tokens per wiki in a shard folder, from its manifest (complete builds only)."""
    if not shard_dir:
        return {}
    f = Path(shard_dir) / MANIFEST
    if not f.is_file():
        return {}
    manifest = Manifest.from_json(json.loads(f.read_text()), str(f))
    return {w: v["tokens"] for w, v in manifest.per_wiki.items()}


def per_wiki(root, leia_shards=None, plain_shards=None, wikis=None):
    """One row per wiki: articles, links, the share resolved and aligned to the pivot
    language, insertions; with both shard folders (``encode.py`` with and without
    ``--no-augmentation``) also the tokens the augmentation adds and insertions per
    1,000 tokens of plain text."""
    import pandas as pd

    st = latest_stats(root, wikis)
    out = pd.DataFrame({
        "articles": st["articles"], "links": st["links"],
        "resolved %": 100 * st["links_resolved"] / st["links"].clip(lower=1),
        "aligned %": 100 * st["links_aligned"] / st["links"].clip(lower=1),
        "insertions": st["insertions"],
        "insertions / article": st["insertions"] / st["articles"].clip(lower=1),
    })
    leia, plain = shard_tokens(leia_shards), shard_tokens(plain_shards)
    if leia and plain:
        out["plain tokens"] = pd.Series(plain)
        out["tokens added"] = pd.Series(leia) - pd.Series(plain)
        out["added %"] = 100 * out["tokens added"] / out["plain tokens"]
        out["insertions / 1k tokens"] = 1000 * out["insertions"] / out["plain tokens"]
    return out


def insertions(root, wikis=None):
    """One row per insertion: wiki, page_id, title, offset, pivot_title (the name)."""
    import pandas as pd

    aug = read_table(root, "augmented", ["wiki", "page_id", "title", "insertions"], wikis)
    rows = [(w, p, t, i["offset"], i["pivot_title"])
            for w, p, t, ins in zip(aug["wiki"], aug["page_id"], aug["title"],
                                    aug["insertions"])
            for i in ins]
    return pd.DataFrame(rows, columns=["wiki", "page_id", "title", "offset", "pivot_title"])


def top_names(ins, n: int = 10):
    """The ``n`` most often inserted names of each wiki, with their counts."""
    counts = ins.groupby(["wiki", "pivot_title"]).size().rename("count").reset_index()
    return (counts.sort_values(["wiki", "count", "pivot_title"],
                               ascending=[True, False, True])
            .groupby("wiki").head(n).reset_index(drop=True))


def insertions_per_article(root, wikis=None):
    """Insertions of each article (zeros included): wiki, page_id, insertions."""
    aug = read_table(root, "augmented", ["wiki", "page_id", "insertions"], wikis)
    aug["insertions"] = aug["insertions"].map(len)
    return aug


def examples(root, wiki: str, k: int = 3, width: int = 240, seed: int = 0,
             markers: tuple[str, str] = DEFAULT_MARKERS) -> list[dict]:
    """``k`` passages of augmented text around a random insertion, from random
    articles of ``wiki`` that have one: [{title, passage}]."""
    aug = read_table(root, "augmented", ["page_id", "title", "augmented_text", "insertions"],
                     [wiki])
    aug = aug[aug["insertions"].map(len) > 0]
    rng = random.Random(seed)
    picked = rng.sample(range(len(aug)), min(k, len(aug)))
    out = []
    for i in picked:
        text = aug["augmented_text"].iloc[i]
        starts = [j for j in range(len(text)) if text.startswith(markers[0], j)]
        at = rng.choice(starts) if starts else 0
        start = max(0, at - width // 2)
        out.append({"title": aug["title"].iloc[i],
                    "passage": ("…" if start else "") + text[start:start + width] + "…"})
    return out


def highlight(passage: str, markers: tuple[str, str] = DEFAULT_MARKERS) -> str:
    """HTML of a passage with each inserted name and its markers highlighted."""
    out, rest = [], passage
    while True:
        a = rest.find(markers[0])
        b = rest.find(markers[1], a + len(markers[0])) if a >= 0 else -1
        if a < 0 or b < 0:
            out.append(html.escape(rest))
            return "".join(out)
        out.append(html.escape(rest[:a]))
        out.append('<mark style="background:#ffe08a">'
                   + html.escape(rest[a:b + len(markers[1])]) + "</mark>")
        rest = rest[b + len(markers[1]):]
