"""Text cells of CSV files that editors open in a spreadsheet.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula
by Excel and LibreOffice ("CSV injection": a question a resident typed could reach an
editor's machine this way). Such cells are written with a leading apostrophe, which
spreadsheets show as plain text, and `restore` takes it off again when a file is read
back, so an export followed by an import changes nothing.
"""

from __future__ import annotations

__all__ = ["defuse", "restore"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value
