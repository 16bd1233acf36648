"""Per-record steps of the corpus build, as pure functions the Spark job maps.

``parse_record`` turns one raw ``<page>`` record into page rows (or rejects);
``augment_article`` turns an article and its resolved links into the ``articles`` and
``augmented`` rows. Both take and return plain tuples and dicts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .augment import plan
from .pages import BadPage, Page, parse_page, split_record
from .params import AugmentParams
from .siteinfo import SiteInfo
from .titles import clean_title, normalise_target, upper_first
from .wikitext import extract

# Field order of the intermediate ``pages`` rows (see spark_jobs/read.py for types).
PAGE_FIELDS = ("wiki", "source_file", "position", "page_id", "ns", "title", "is_redirect",
               "redirect_ns", "redirect_title", "revision_id", "text", "links",
               "bytes_in", "parse_seconds", "reject")


@dataclass(frozen=True)
class WikiContext:
    wiki: str
    lang: str
    site: SiteInfo
    variant: str | None = None
    """The LanguageConverter variant the text shows (None: the wiki's main one)."""


def parse_record(record: str, position: int, ctx: WikiContext, source_file: str
                 ) -> list[tuple]:
    """Rows for the pages in one record of the ``</page>``-delimited reader."""
    out = []
    fragments = split_record(record)
    for i, frag in enumerate(fragments):
        t0 = time.perf_counter()
        page = parse_page(frag, terminated=(i == len(fragments) - 1))
        nbytes = len(frag.encode("utf-8", "surrogatepass"))
        if isinstance(page, BadPage):
            out.append(_row(ctx, source_file, position, page.page_id, None, page.title,
                            nbytes=nbytes, reject=page.reason))
            continue
        out.append(_page_row(page, ctx, source_file, position, nbytes, t0))
    return out


# How the reason of a ``pages`` row that stands for unreadable input (not one page)
# begins; the job files such rows under the ``read`` stage.
UNREADABLE = "corrupt bz2 block"


def unreadable_block_row(ctx: WikiContext, source_file: str, position: int,
                         byte: int) -> tuple:
    """A ``pages`` row that is only a reject: a corrupt bz2 block at ``byte``, whose
    pages are lost (the others of the file are read)."""
    return _row(ctx, source_file, position, None, None, None, reject=(
        f"{UNREADABLE} at byte {byte} of {source_file}; the pages in it are missing: "
        "download the file again"))


def _row(ctx, source_file, position, page_id, ns, title, is_redirect=False,
         redirect_ns=None, redirect_title=None, revision_id=None, text=None, links=None,
         nbytes=0, seconds=0.0, reject=None) -> tuple:
    return (ctx.wiki, source_file, position, page_id, ns, title, is_redirect, redirect_ns,
            redirect_title, revision_id, text, links, nbytes, seconds, reject)


def _page_row(page: Page, ctx: WikiContext, source_file: str, position: int,
              nbytes: int, t0: float) -> tuple:
    common = (ctx, source_file, position, page.page_id, page.ns, page.title)
    if page.ns != 0:
        return _row(*common, nbytes=nbytes)
    if page.redirect is not None:
        target = normalise_target(page.redirect, ctx.site, ctx.lang)
        ok = target.kind == "page"
        return _row(*common, is_redirect=True, redirect_ns=target.ns if ok else None,
                    redirect_title=target.title if ok else None, nbytes=nbytes)
    if page.model != "wikitext":
        return _row(*common, revision_id=page.revision_id, nbytes=nbytes,
                    reject=f"non_wikitext_content_model: {page.model}")
    try:
        ex = extract(page.text, ctx.site, ctx.lang, variant=ctx.variant)
    except RecursionError:
        return _row(*common, revision_id=page.revision_id, nbytes=nbytes,
                    reject="parse_error: nesting too deep")
    except Exception as e:  # noqa: BLE001 - any parser failure is this page's reject
        return _row(*common, revision_id=page.revision_id, nbytes=nbytes,
                    reject=f"parse_error: {type(e).__name__}: {e}"[:500])
    links = [(l.start, l.end, l.target, *(_hint(l.hint) if l.hint else (None, None)))
             for l in ex.links]
    return _row(*common, revision_id=page.revision_id, text=ex.text, links=links,
                nbytes=nbytes, seconds=time.perf_counter() - t0)


def _hint(hint: tuple[str, str]) -> tuple[str, str]:
    """An interlanguage template's (language, title), the title as that wiki spells it
    (first letter up: Wikipedias are first-letter wikis)."""
    return hint[0], upper_first(clean_title(hint[1]))


def augment_article(wiki: str, page_id: int, links: list[tuple[int, int, str]],
                    resolved: dict[int, tuple[int | None, str | None, str | None]],
                    params: AugmentParams) -> tuple[list[tuple], list[tuple]]:
    """The ``articles.links`` array and the ``augmented.insertions`` array of one
    article. ``resolved`` maps a link's ordinal to (target page id, pivot title, where
    the pivot title came from); links missing from it lead nowhere known.
    ``augmented_text`` turns the insertions into text."""
    full, spans = [], []
    for i, (start, end, target) in enumerate(links):
        target_id, pivot_title, source = resolved.get(i, (None, None, None))
        full.append((start, end, target, target_id, pivot_title, source))
        spans.append((start, end, params.name_filter.apply(pivot_title)))
    ins = plan(wiki, page_id, spans, params.strategy, params.prob, params.seed)
    return full, [(x.offset, x.name, x.anchor_start, x.anchor_end) for x in ins]
