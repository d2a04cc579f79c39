"""Translate Camunda 7 JUEL conditions into restricted-Python expressions.

Diagrams drawn in Camunda Modeler carry gateway conditions such as ``${fee > 10000 && !exempt}``.
Our engine evaluates every expression as restricted Python with the task data as globals, so at
deploy time each JUEL condition is rewritten into an equivalent Python expression, or refused with a
message that names the column and says what to do instead.

The translation goes text -> tokens -> tree -> Python source. Working on a tree (never on the raw text)
is what keeps precedence and string contents right. The emitted code is fully parenthesised and uses
only the variables named in the JUEL text plus Python keywords and literals: the sandbox provides no
helper functions we could rely on.

Known differences that remain (JUEL coerces types, Python does not): ``'1' == 1`` is false, ``null + 1``
and ``null < 1`` raise, ``'a' + 'b'`` concatenates, ``x / 0`` raises instead of giving Infinity, a missing
map key raises instead of giving null, and ``&&``/``||`` return an operand rather than a strict boolean
(same truthiness).
"""

from __future__ import annotations

import keyword
import math
import re
import unicodedata
from dataclasses import dataclass

__all__ = ["JuelError", "is_juel", "translate_juel"]

_CALL_HINT = "method and function calls are not supported; compute the value in a script task first"
_COLLECTION_HINT = "collection literals ({...} and [...]) are not supported; build the value in a script task first"

# Names RestrictedPython refuses even though they are valid Python identifiers.
_SANDBOX_RESERVED = frozenset({"print", "printed", "builtins", "breakpoint"})

# JUEL word operators, mapped to the symbol they are synonyms of.
_WORD_OPERATORS = {
    "and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
    "le": "<=", "ge": ">=", "div": "/", "mod": "%", "empty": "empty",
}
_WORD_LITERALS = {"true": True, "false": False, "null": None}

# Symbols that are valid EL 3.0 (or look like operators) but mean something we refuse.
_REFUSED_SYMBOLS = {
    "->": "lambda expressions ('->') are not supported; compute the value in a script task first",
    "+=": "the string concatenation operator '+=' is not supported; build the text in a script task first",
    "=": "assignment ('=') is not supported; use '==' to compare",
    ";": "';' (several expressions in one) is not supported; write a single condition",
    "{": _COLLECTION_HINT,
    "&": "'&' is not an operator; use '&&' or 'and'",
    "|": "'|' is not an operator; use '||' or 'or'",
}
# Longest first, so that '==' is not read as '=' '=', nor '->' as '-' '>'.
_SYMBOLS = sorted(
    ["==", "!=", "<=", ">=", "&&", "||", "<", ">", "!", "+", "-", "*", "/", "%", "?", ":", ".", "[", "]",
     "(", ")", ",", *_REFUSED_SYMBOLS],
    key=len,
    reverse=True,
)

# Binding powers, lowest to highest, as in EL 3.0 section 1.17. The unary operators (- ! not empty)
# bind tighter than all of these, and . [] tighter still; the parser's call structure encodes that.
_TERNARY_BP = 10
_BINARY_BP = {
    "||": 20, "&&": 30,
    "==": 40, "!=": 40,
    "<": 50, ">": 50, "<=": 50, ">=": 50,
    "+": 60, "-": 60,
    "*": 70, "/": 70, "%": 70,
}
_PY_BINARY = {"||": "or", "&&": "and"}  # every other binary symbol is spelled the same in Python

_NUMBER = re.compile(r"(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")


class JuelError(ValueError):
    """A JUEL expression that cannot be translated.

    ``message`` says what is wrong and how to fix it; ``column`` is the 1-based position in the original
    text, or None when no single place is to blame.
    """

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message if column is None else f"{message} (column {column})")
        self.message = message
        self.column = column


def is_juel(text: str) -> bool:
    """True when the stripped text starts with '${' or '#{' (a JUEL expression)."""
    return isinstance(text, str) and text.strip().startswith(("${", "#{"))


def translate_juel(text: str) -> str:
    """Translate one whole JUEL expression '${ ... }' (or '#{ ... }') into an equivalent Python expression."""
    start = len(text) - len(text.lstrip())
    if not text[start:].startswith(("${", "#{")):
        raise JuelError(
            "a condition must be a single ${...} expression with nothing before or after it", start + 1
        )
    tokens = _Lexer(text, start).tokens()
    return _emit(_Parser(tokens).parse())


# --- tokens ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "str", "lit" (true/false/null), "name", "op" or "end" (the closing brace)
    value: object  # the number, string, literal or canonical operator symbol
    text: str  # as written, for messages and for keys after '.'
    column: int  # 1-based, in the original text


class _Lexer:
    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.open_column = start + 1  # where '${' is
        self.pos = start + 2

    def tokens(self) -> list[_Token]:
        result: list[_Token] = []
        while True:
            token = self._next()
            result.append(token)
            if token.kind == "end":
                break
        rest = self.text[self.pos:]
        if rest.strip():
            column = self.pos + len(rest) - len(rest.lstrip()) + 1
            raise JuelError(
                "a condition must be a single ${...} expression with nothing before or after it", column
            )
        return result

    def _next(self) -> _Token:
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1
        if self.pos >= len(text):
            raise JuelError("the expression is not closed; add '}' at its end", self.open_column)
        begin = self.pos
        ch = text[begin]
        if ch == "}":
            self.pos += 1
            return _Token("end", None, "}", begin + 1)
        if ch in "'\"":
            return self._string()
        if ch.isdigit() or (ch == "." and text[begin + 1:begin + 2].isdigit()):
            return self._number()
        if ch == "$" or ch.isidentifier():
            return self._word()
        for symbol in _SYMBOLS:
            if text.startswith(symbol, begin):
                if symbol in _REFUSED_SYMBOLS:
                    raise JuelError(_REFUSED_SYMBOLS[symbol], begin + 1)
                self.pos += len(symbol)
                return _Token("op", symbol, symbol, begin + 1)
        raise JuelError(f"unexpected character {ch!r}", begin + 1)

    def _string(self) -> _Token:
        text, begin = self.text, self.pos
        quote = text[begin]
        chars: list[str] = []
        i = begin + 1
        while i < len(text):
            ch = text[i]
            if ch == quote:
                self.pos = i + 1
                return _Token("str", "".join(chars), text[begin:i + 1], begin + 1)
            if ch == "\\":
                escaped = text[i + 1:i + 2]
                # JUEL knows only these escapes; accepting both quotes in either kind of string is harmless.
                if escaped not in ("'", '"', "\\"):
                    raise JuelError(
                        "invalid escape sequence in string; only \\', \\\" and \\\\ are allowed", i + 1
                    )
                chars.append(escaped)
                i += 2
                continue
            chars.append(ch)
            i += 1
        raise JuelError(f"unterminated string; close it with {quote}", begin + 1)

    def _number(self) -> _Token:
        begin = self.pos
        match = _NUMBER.match(self.text, begin)
        assert match is not None  # the caller saw a digit, or '.' followed by a digit
        lexeme = match.group()
        self.pos = match.end()
        value: int | float
        if "." in lexeme or "e" in lexeme.lower():
            value = float(lexeme)
            if not math.isfinite(value):
                raise JuelError(f"the number {lexeme} is too large", begin + 1)
        else:
            value = int(lexeme)
        return _Token("num", value, lexeme, begin + 1)

    def _word(self) -> _Token:
        text, begin = self.text, self.pos
        end = begin + 1
        # Java identifiers may contain '$'; we read it so the name can be refused as a whole.
        while end < len(text) and (text[end] == "$" or ("a" + text[end]).isidentifier()):
            end += 1
        self.pos = end
        word = text[begin:end]
        if word in _WORD_LITERALS:
            return _Token("lit", _WORD_LITERALS[word], word, begin + 1)
        if word in _WORD_OPERATORS:
            return _Token("op", _WORD_OPERATORS[word], word, begin + 1)
        if word == "instanceof":
            raise JuelError("'instanceof' is not supported", begin + 1)
        return _Token("name", word, word, begin + 1)


# --- tree -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Literal:
    value: object


@dataclass(frozen=True)
class _Name:
    name: str


@dataclass(frozen=True)
class _Index:  # both a.b and a[b]
    base: _Node
    key: _Node


@dataclass(frozen=True)
class _Unary:
    op: str  # "-", "!" or "empty"
    operand: _Node


@dataclass(frozen=True)
class _Binary:
    op: str  # a key of _BINARY_BP
    left: _Node
    right: _Node


@dataclass(frozen=True)
class _Conditional:
    test: _Node
    then: _Node
    otherwise: _Node


_Node = _Literal | _Name | _Index | _Unary | _Binary | _Conditional


# --- parser (Pratt) -------------------------------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def parse(self) -> _Node:
        if self._peek().kind == "end":
            raise JuelError("the expression is empty; write a condition between ${ and }", self._peek().column)
        node = self._expression(_TERNARY_BP)
        token = self._peek()
        if token.kind != "end":
            if self._is_op(token, ")"):
                raise JuelError("unbalanced parentheses: this ')' has no matching '('", token.column)
            if self._is_op(token, "]"):
                raise JuelError("unbalanced brackets: this ']' has no matching '['", token.column)
            raise JuelError(
                f"unexpected {token.text!r} after a complete expression; "
                "join the parts with an operator such as && or ||",
                token.column,
            )
        return node

    def _peek(self, ahead: int = 0) -> _Token:
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def _take(self) -> _Token:
        token = self._peek()
        self.i += 1
        return token

    @staticmethod
    def _is_op(token: _Token, symbol: str) -> bool:
        return token.kind == "op" and token.value == symbol

    def _expression(self, min_bp: int) -> _Node:
        left = self._unary()
        while True:
            token = self._peek()
            if token.kind != "op":
                return left
            if token.value == "?" and min_bp <= _TERNARY_BP:
                self._take()
                then = self._expression(_TERNARY_BP)
                if not self._is_op(self._peek(), ":"):
                    raise JuelError("'?' needs a matching ':' (write a ? b : c)", token.column)
                self._take()
                # Parsing the 'else' part at the same level makes a ? b : c ? d : e right-associative.
                left = _Conditional(left, then, self._expression(_TERNARY_BP))
                continue
            bp = _BINARY_BP.get(str(token.value))
            if bp is None or bp < min_bp:
                return left
            self._take()
            # bp + 1 on the right makes every binary operator left-associative, as in JUEL.
            left = _Binary(str(token.value), left, self._expression(bp + 1))

    def _unary(self) -> _Node:
        token = self._peek()
        if token.kind == "op" and token.value in ("-", "!", "empty"):
            self._take()
            return _Unary(str(token.value), self._unary())
        return self._postfix()

    def _postfix(self) -> _Node:
        node = self._primary()
        while True:
            token = self._peek()
            if self._is_op(token, "("):
                raise JuelError(_CALL_HINT, token.column)
            if not (self._is_op(token, ".") or self._is_op(token, "[")):
                return node
            if isinstance(node, _Literal):
                raise JuelError(f"{token.text!r} can only follow a variable, not a literal", token.column)
            self._take()
            if token.value == ".":
                node = _Index(node, _Literal(self._property_name(token)))
                continue
            key = self._expression(_TERNARY_BP)
            if not self._is_op(self._peek(), "]"):
                self._unclosed(token, "]")
            self._take()
            node = _Index(node, key)

    def _property_name(self, dot: _Token) -> str:
        token = self._take()
        # After '.' any word is a map key, so Python keywords and JUEL words are fine here.
        if token.kind in ("name", "lit") or (token.kind == "op" and token.text[0].isalpha()):
            return token.text
        raise JuelError("'.' must be followed by a property name", dot.column)

    def _primary(self) -> _Node:
        token = self._take()
        if token.kind in ("num", "str", "lit"):
            return _Literal(token.value)
        if token.kind == "name":
            # 'fn:name(...)' is a namespaced EL function call.
            if self._is_op(self._peek(), ":") and self._peek(1).kind == "name" and self._is_op(self._peek(2), "("):
                raise JuelError(_CALL_HINT, self._peek(2).column)
            return _Name(_checked_name(token))
        if self._is_op(token, "("):
            inner = self._expression(_TERNARY_BP)
            if not self._is_op(self._peek(), ")"):
                self._unclosed(token, ")")
            self._take()
            return inner  # the tree keeps the grouping; the emitter parenthesises everything
        if self._is_op(token, "["):
            raise JuelError(_COLLECTION_HINT, token.column)
        if token.kind == "end":
            raise JuelError("the expression ends where a value was expected", token.column)
        raise JuelError(f"expected a value but found {token.text!r}", token.column)

    def _unclosed(self, opener: _Token, closer: str) -> None:
        token = self._peek()
        if token.kind == "end":
            kind = "parentheses" if closer == ")" else "brackets"
            raise JuelError(f"unbalanced {kind}: this {opener.text!r} is never closed; add {closer!r}", opener.column)
        raise JuelError(f"expected {closer!r} but found {token.text!r}", token.column)


def _checked_name(token: _Token) -> str:
    """Return the variable name if the sandbox can look it up as written, else refuse it."""
    name = token.text
    fix = "rename the variable"
    if name.startswith("_"):
        raise JuelError(f"variable {name!r} starts with '_', which the sandbox forbids; {fix}", token.column)
    if name in ("True", "False", "None"):
        hint = "null" if name == "None" else name.lower()
        raise JuelError(f"{name!r} is not a JUEL literal; write {hint}", token.column)
    if keyword.iskeyword(name):
        raise JuelError(f"variable {name!r} is a Python keyword and cannot be used here; {fix}", token.column)
    if not name.isidentifier():
        raise JuelError(f"variable {name!r} is not a valid Python name; {fix}", token.column)
    # Python normalises identifiers (NFKC), so e.g. full-width letters would look up a different key.
    if unicodedata.normalize("NFKC", name) != name:
        raise JuelError(f"variable {name!r} contains characters Python would rewrite; {fix}", token.column)
    if name in _SANDBOX_RESERVED or name.endswith("__roles__"):
        raise JuelError(f"variable {name!r} is reserved by the sandbox; {fix}", token.column)
    return name


# --- emitter --------------------------------------------------------------------------------------


def _emit(node: _Node) -> str:
    """Python source for a tree: every compound is parenthesised, so Python's precedence never matters."""
    match node:
        case _Literal(value):
            return repr(value)
        case _Name(name):
            return name
        case _Index(base, key):
            return f"{_emit(base)}[{_emit(key)}]"
        case _Unary("-", operand):
            return f"(-{_emit(operand)})"
        case _Unary("!", operand):
            return f"(not {_emit(operand)})"
        case _Unary("empty", operand):
            # JUEL 'empty' is true for null, "" and empty collections only (not for 0 or false).
            # 'in' on a tuple compares with 'is' then '==', and evaluates the operand once.
            return f"({_emit(operand)} in (None, '', [], {{}}))"
        case _Binary("%", left, right):
            return _java_remainder(_emit(left), right)
        case _Binary(op, left, right):
            lhs, rhs = _emit(left), _emit(right)
            if op in ("==", "!=") and _Literal(None) in (left, right):
                # Comparing with null by identity is the Python idiom and gives the same result.
                other = rhs if left == _Literal(None) else lhs
                return f"({other} is {'' if op == '==' else 'not '}None)"
            return f"({lhs} {_PY_BINARY.get(op, op)} {rhs})"
        case _Conditional(test, then, otherwise):
            return f"({_emit(then)} if {_emit(test)} else {_emit(otherwise)})"
    raise AssertionError(f"unknown node {node!r}")  # pragma: no cover


def _java_remainder(a: str, divisor: _Node) -> str:
    """JUEL's '%' is Java's remainder (sign of the dividend); Python's '%' takes the divisor's sign.

    They differ only when the signs differ and the remainder is not zero; then Java's is Python's minus b.
    """
    b = _emit(divisor)
    py = f"({a} % {b})"
    if isinstance(divisor, _Literal) and isinstance(divisor.value, int | float) and divisor.value >= 0:
        signs_differ = f"({a} < 0)"  # the usual 'x mod 2': no need to test the divisor's sign
    else:
        signs_differ = f"(({a} < 0) != ({b} < 0))"
    return f"(({py} - {b}) if ({py} != 0 and {signs_differ}) else {py})"
