"""A small SoQL subset: ``$where`` expressions, ``$order`` and ``$select`` lists.

``$where`` grammar (keywords case-insensitive)::

    expr   := term (OR term)*
    term   := factor (AND factor)*
    factor := NOT factor | '(' expr ')' | column op literal | column IS [NOT] NULL
            | column [NOT] BETWEEN literal AND literal
    op     := < | <= | > | >= | = | != | <>

Literals are single-quoted strings (``''`` escapes a quote) or numbers. Parsing yields a tree;
evaluation against a table happens in :mod:`replay.query`.

Environment variables read here: none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op><=|>=|!=|<>|=|<|>)
    | (?P<punct>[(),*])
    | (?P<name>:\*|:?[A-Za-z_][A-Za-z0-9_]*|`[^`]+`)
    )""",
    re.VERBOSE,
)


class SoqlError(ValueError):
    """A malformed query; ``code`` is the Socrata error code, ``data`` extra context."""

    def __init__(self, message: str, code: str = "query.compiler.malformed", **data: str) -> None:
        super().__init__(message)
        self.code = code
        self.data = data


@dataclass(frozen=True)
class Token:
    kind: str  # str | num | op | punct | name
    text: str
    pos: int


@dataclass(frozen=True)
class Compare:
    column: str
    op: str
    value: str | float


@dataclass(frozen=True)
class IsNull:
    column: str
    negated: bool


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or | not
    args: tuple


def tokenize(text: str) -> list[Token]:
    """Split a clause into tokens; anything unrecognised is a syntax error."""
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise SoqlError(
                f"Could not parse SoQL near position {pos + 1}: {text[pos : pos + 20]!r}"
            )
        kind = m.lastgroup or ""
        raw = m.group(kind)
        if kind == "name" and raw.startswith("`"):
            raw = raw[1:-1]
        tokens.append(Token(kind, raw, m.start(kind)))
        pos = m.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def keyword(self, *words: str) -> bool:
        tok = self.peek()
        if tok and tok.kind == "name" and tok.text.lower() in words:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, text: str | None = None) -> Token:
        tok = self.peek()
        if tok is None or tok.kind != kind or (text is not None and tok.text != text):
            where = f"position {tok.pos + 1}" if tok else "end of input"
            raise SoqlError(f"Could not parse SoQL $where at {where}: {self.text!r}")
        self.i += 1
        return tok

    def expr(self) -> object:
        args = [self.term()]
        while self.keyword("or"):
            args.append(self.term())
        return args[0] if len(args) == 1 else BoolOp("or", tuple(args))

    def term(self) -> object:
        args = [self.factor()]
        while self.keyword("and"):
            args.append(self.factor())
        return args[0] if len(args) == 1 else BoolOp("and", tuple(args))

    def factor(self) -> object:
        if self.keyword("not"):
            return BoolOp("not", (self.factor(),))
        tok = self.peek()
        if tok and tok.kind == "punct" and tok.text == "(":
            self.i += 1
            inner = self.expr()
            self.expect("punct", ")")
            return inner
        column = self.expect("name").text
        if self.keyword("is"):
            negated = self.keyword("not")
            if not self.keyword("null"):
                self.expect("name", "NULL")
            return IsNull(column, negated)
        negated = self.keyword("not")
        if self.keyword("between"):
            low = self.literal()
            if not self.keyword("and"):
                self.expect("name", "AND")
            high = self.literal()
            node = BoolOp("and", (Compare(column, ">=", low), Compare(column, "<=", high)))
            return BoolOp("not", (node,)) if negated else node
        if negated:
            self.expect("name", "BETWEEN")
        op = self.expect("op").text
        return Compare(column, "!=" if op == "<>" else op, self.literal())

    def literal(self) -> str | float:
        tok = self.peek()
        if tok and tok.kind == "str":
            self.i += 1
            return tok.text[1:-1].replace("''", "'")
        if tok and tok.kind == "num":
            self.i += 1
            return float(tok.text)
        return self.expect("str").text


def parse_where(text: str) -> object:
    """Parse a ``$where`` clause into a tree of Compare / IsNull / BoolOp nodes."""
    parser = _Parser(text)
    if not parser.tokens:
        raise SoqlError("Empty $where clause")
    tree = parser.expr()
    tok = parser.peek()
    if tok is not None:
        raise SoqlError(f"Could not parse SoQL $where at position {tok.pos + 1}: {text!r}")
    return tree


def where_columns(node: object) -> list[str]:
    """Every column a parsed ``$where`` mentions."""
    if isinstance(node, Compare | IsNull):
        return [node.column]
    assert isinstance(node, BoolOp)
    return [c for arg in node.args for c in where_columns(arg)]


def _items(text: str, clause: str) -> list[list[Token]]:
    items: list[list[Token]] = [[]]
    for tok in tokenize(text):
        if tok.kind == "punct" and tok.text == ",":
            items.append([])
        else:
            items[-1].append(tok)
    if any(not item for item in items):
        raise SoqlError(f"Could not parse SoQL {clause}: {text!r}")
    return items


def parse_order(text: str) -> list[tuple[str, bool]]:
    """Parse ``$order`` into (column, descending) pairs."""
    out = []
    for item in _items(text, "$order"):
        direction = item[1].text.lower() if len(item) == 2 else "asc"
        if item[0].kind != "name" or len(item) > 2 or direction not in ("asc", "desc"):
            raise SoqlError(f"Could not parse SoQL $order: {text!r}")
        out.append((item[0].text, direction == "desc"))
    return out


def parse_select(text: str) -> list[str]:
    """Parse ``$select`` into column names, ``*`` and ``:*`` (no aliases or functions)."""
    out = []
    for item in _items(text, "$select"):
        if len(item) == 1 and (item[0].kind == "name" or item[0].text == "*"):
            out.append(item[0].text)
            continue
        if len(item) > 1 and item[1].text == "(":
            raise SoqlError(
                f"Function {item[0].text} is not supported by the replay API",
                "query.soql.no-such-function",
                function=item[0].text,
            )
        raise SoqlError(f"Could not parse SoQL $select: {text!r}")
    return out
