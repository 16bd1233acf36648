"""Templates that show a quantity inside a sentence: the quantity, as the wikitext holds it.

``{{convert|891.82|km2|sqmi}}`` stands inside sentences on most wikis ("the city covers
{{convert|891.82|km2}}"); dropped, it leaves "the city covers ." The page shows the
value, its unit and the value converted ("891.82 km² (344.33 sq mi)"), which
Module:Convert computes with rounding rules of its own. The corpus keeps the part the
wikitext holds: the value or range as written and the unit's symbol ("891.82 km²").
Likewise the parser function ``{{formatnum:3426354}}`` keeps its number as written; the
page groups its digits by the language's own rules.
"""

from __future__ import annotations

import re

CONVERT = frozenset({"convert", "cvt"})
FORMATNUM = "formatnum"
NAMES = CONVERT | {FORMATNUM}
# Words that join the values of a range ({{convert|2|to|5|km}}), and how each is shown.
_RANGE = {"-": "–", "–": "–", "to": " to ", "and": " and ", "or": " or ", "by": " by ",
          "x": " × ", "×": " × ", "+": " + ", "+/-": " ± ", "±": " ± ", "to(-)": " to ",
          "and(-)": " and "}
# Unit codes whose symbol differs from the code; any other code is shown as written.
_SYMBOL = {
    "km2": "km²", "m2": "m²", "cm2": "cm²", "mm2": "mm²", "sqkm": "km²", "sqm": "m²",
    "sqmi": "sq mi", "mi2": "sq mi", "sqft": "sq ft", "ft2": "sq ft", "sqin": "sq in",
    "km3": "km³", "m3": "m³", "cm3": "cm³", "cuft": "cu ft", "ft3": "cu ft",
    "m3/s": "m³/s", "cuft/s": "cu ft/s", "C": "°C", "F": "°F", "acre": "acres",
    "l": "L", "kmh": "km/h", "kph": "km/h", "mih": "mph", "mi/h": "mph",
}
_VALUE = re.compile(r"[-−+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:e-?\d+)?(?:\+\d+/\d+)?$")
# What the page shows when these are set: not the value as written.
_HIDDEN_INPUT = {"disp": {"out", "unit", "unit2", "number"}}


def converted(positional: list[str], named: dict[str, str]) -> str:
    """The value (or range, or "6 ft 2 in") and the unit of a ``{{convert}}``, or ""
    when its arguments are not a value and a unit, or it shows only the converted
    value."""
    args = [a.strip() for a in positional]
    if any(named.get(k, "").strip() in v for k, v in _HIDDEN_INPUT.items()):
        return ""
    if len(args) < 2 or not _VALUE.match(args[0]):
        return ""
    shown, i = args[0], 1
    while i + 1 < len(args) and args[i] in _RANGE and _VALUE.match(args[i + 1]):
        shown += _RANGE[args[i]] + args[i + 1]
        i += 2
    if i >= len(args) or not args[i] or _VALUE.match(args[i]):
        return ""
    shown += " " + _SYMBOL.get(args[i], args[i])
    # {{convert|6|ft|2|in}}: a second value and unit of the same quantity
    while i + 2 < len(args) and _VALUE.match(args[i + 1]) and args[i + 2] and \
            not _VALUE.match(args[i + 2]):
        shown += f" {args[i + 1]} {_SYMBOL.get(args[i + 2], args[i + 2])}"
        i += 2
    return shown


def formatted(args: list[str]) -> str:
    """The number of a ``{{formatnum:...}}`` written as one, else ""."""
    number = args[0].strip() if len(args) == 1 else ""
    return number if _VALUE.match(number) else ""
