"""Command lines from typed config dataclasses: one flag per field, its help from the
field's metadata. Shared by the Spark jobs and the trainer."""

from __future__ import annotations

import argparse
from dataclasses import fields


def parse_config(cls, argv: list[str] | None, prog: str, description: str):
    """A config dataclass from the command line: one flag per field, its help from the
    field's metadata; ``cls.validate()`` errors become usage errors (exit 2)."""
    p = argparse.ArgumentParser(prog=prog, description=description,
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    for f in fields(cls):
        meta = dict(f.metadata)
        if f.type in ("bool", bool):
            p.add_argument(flag(f.name), dest=f.name, default=f.default,
                           action=argparse.BooleanOptionalAction, help=meta["help"])
            continue
        kind = {"int": int, "float": float, "int | None": int}.get(str(f.type), str)
        p.add_argument(flag(f.name), dest=f.name, default=f.default, type=kind,
                       help=meta["help"], choices=meta.get("choices"),
                       required=meta.get("required", False))
    cfg = cls(**vars(p.parse_args(argv)))
    try:
        cfg.validate()
    except ValueError as e:
        p.error(str(e))
    return cfg


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def to_argv(cls, **values) -> list[str]:
    """The command-line arguments that give ``cls`` (a config dataclass) these field
    values: how a caller spells another stage's flags without spelling them again."""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(values) - set(known))
    assert not unknown, f"{cls.__name__} has no fields {unknown}"
    argv = []
    for name, value in values.items():
        if known[name].type in ("bool", bool):
            argv.append(flag(name) if value else "--no-" + name.replace("_", "-"))
        else:
            argv += [flag(name), str(value)]
    return argv


def field_help(cls, name: str) -> dict:
    """A field's metadata (its help), for a config that offers the same setting."""
    return {"help": next(f for f in fields(cls) if f.name == name).metadata["help"]}


def wiki_names(value: str) -> list[str] | None:
    """``--wikis``: comma-separated names, or None for 'all'."""
    if value.strip() == "all":
        return None
    names = [w.strip() for w in value.split(",") if w.strip()]
    if not names:
        raise ValueError("--wikis is empty: give database names such as jawiki,zhwiki, "
                         "or 'all'")
    return names
