"""A light scanner of C++ source, enough to know what a definition's code declares: the functions
it defines at file scope (name, return type, parameters) and the identifiers it uses, with
comments, string and character literals and preprocessor lines left out. It reads tokens and
follows braces and parentheses; it is no compiler (a function defined inside `extern "C" { }` or
a namespace, or made by a macro, is not seen), and the compilers check the rest.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass

TOKENS = re.compile(r"""
    (?P<directive>^[ \t]*\#[ \t]*(?P<name>\w*)(?:\\\n|[^\n])*)  # a preprocessor line
  | (?P<skip>//[^\n]*|/\*.*?\*/|\s+)                              # comments, space
  | (?P<literal>(?:u8|[uUL])?"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<word>[A-Za-z_]\w*|\d[\w.']*)
  | (?P<punct>::|->|.)
""", re.DOTALL | re.MULTILINE | re.VERBOSE)
ATTRIBUTE = "__attribute__"


@dataclass(frozen=True)
class Function:
    """A function defined at file scope: `returns` and `params` are its tokens joined by spaces
    ('static void', 'const long * args')."""

    name: str
    returns: str
    params: str


def tokens(code: str, first_branch: bool = False) -> list[str]:
    """The code's tokens; each string or character literal is one token '""'. With
    `first_branch`, of each #if/#ifdef/#ifndef only the lines up to its #else/#elif are read
    (the branches of a conditional each complete the same braces: reading all would nest them)."""
    out: list[str] = []
    skipping: list[bool] = []  # per open conditional: whether its current branch is left out
    for match in TOKENS.finditer(code):
        kind = match.lastgroup
        if kind == "directive":
            name = match.group("name")
            if name in ("if", "ifdef", "ifndef"):
                skipping.append(False)
            elif name in ("else", "elif") and skipping:
                skipping[-1] = first_branch
            elif name == "endif" and skipping:
                skipping.pop()
        elif any(skipping) or kind == "skip":
            continue
        else:
            out.append('""' if kind == "literal" else match.group())
    return out


@functools.lru_cache(maxsize=64)
def identifiers(code: str) -> frozenset[str]:
    """Every identifier the code uses (every branch of its conditionals), outside comments,
    literals and preprocessor lines (scanned once per process and code)."""
    return frozenset(tok for tok in tokens(code) if tok[0].isalpha() or tok[0] == "_")


def _closing(toks: list[str], start: int) -> int:
    """The index of the ')' matching the '(' at `start` (len(toks) when it is missing)."""
    depth = 0
    for index in range(start, len(toks)):
        depth += {"(": 1, ")": -1}.get(toks[index], 0)
        if depth == 0:
            return index
    return len(toks)


def _head(statement: list[str]) -> Function | None:
    """The function a file-scope statement followed by '{' defines, if it is one: NAME ( ... )
    with only qualifiers after it, no '=' (an initialiser) and no ':' (a class's bases)."""
    if "=" in statement or ":" in statement:
        return None
    kept: list[str] = []  # the tokens before the name, attributes left out
    index = 0
    while index < len(statement):
        tok = statement[index]
        if tok == ATTRIBUTE:
            index = _closing(statement, index + 1) + 1
            continue
        if tok == "(" and kept and re.fullmatch(r"[A-Za-z_]\w*", kept[-1]):
            end = _closing(statement, index)
            return Function(kept[-1], " ".join(kept[:-1]), " ".join(statement[index + 1:end]))
        kept.append(tok)
        index += 1
    return None


@functools.lru_cache(maxsize=1024)
def functions(code: str) -> Mapping[str, Function]:
    """The functions the code defines at file scope (a body follows), by name, in the first
    branch of each preprocessor conditional (scanned once per process and code: read only)."""
    found: dict[str, Function] = {}
    depth = 0
    statement: list[str] = []
    for tok in tokens(code, first_branch=True):
        if depth:
            depth += {"{": 1, "}": -1}.get(tok, 0)
        elif tok == "{":
            head = _head(statement)
            if head:
                found[head.name] = head
            depth, statement = 1, []
        elif tok == ";":
            statement = []
        else:
            statement.append(tok)
    return found
