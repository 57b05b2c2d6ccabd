"""`fields` partial responses: Google's field-selector syntax applied to a JSON answer.

    items(id,status),nextPageToken     sub-selection of each item of a list
    start/dateTime                     a path into nested objects
    *                                  every field at that level

A selector that does not parse answers 400 `invalidParameter` (location `fields`), as Google does.
Names are not checked against the schema: an unknown name selects nothing.
"""
from __future__ import annotations

import re
from typing import Any

from . import errors as E

Selection = dict[str, "Selection | None"]
"""Field name → what to keep of it (None: all of it)."""
NAME = re.compile(r"[A-Za-z0-9_@.$-]+|\*")


def parse_fields(text: str) -> Selection:
    parser = _Parser(text)
    selection = parser.selection()
    if parser.pos != len(text):
        raise invalid_fields(text)
    return selection


def invalid_fields(text: str) -> E.ApiError:
    return E.ApiError(400, "invalidParameter", f"Invalid field selection {text}", location="fields")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def selection(self) -> Selection:
        out: Selection = {}
        while True:
            path = [self.name()]
            while self.peek("/"):
                self.pos += 1
                path.append(self.name())
            sub: Selection | None = None
            if self.peek("("):
                self.pos += 1
                sub = self.selection()
                if not self.peek(")"):
                    raise invalid_fields(self.text)
                self.pos += 1
            for name in reversed(path[1:]):
                sub = {name: sub}
            _add(out, path[0], sub)
            if not self.peek(","):
                return out
            self.pos += 1

    def name(self) -> str:
        while self.peek(" "):
            self.pos += 1
        m = NAME.match(self.text, self.pos)
        if not m:
            raise invalid_fields(self.text)
        self.pos = m.end()
        while self.peek(" "):
            self.pos += 1
        return m.group(0)

    def peek(self, char: str) -> bool:
        return self.text.startswith(char, self.pos)


def _add(out: Selection, name: str, sub: Selection | None) -> None:
    """Merge two selections of the same name: selecting all of it wins."""
    if name in out:
        old = out[name]
        if old is None or sub is None:
            out[name] = None
        else:
            for k, v in sub.items():
                _add(old, k, v)
    else:
        out[name] = sub


def select(value: Any, selection: Selection | None) -> Any:
    """The part of `value` that `selection` keeps (lists are selected item by item)."""
    if selection is None:
        return value
    if isinstance(value, list):
        return [select(v, selection) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for k, v in value.items():
        if k in selection:
            out[k] = select(v, selection[k])
        elif "*" in selection:
            out[k] = select(v, selection["*"])
    return out
