"""Tests for the JUEL -> restricted Python translation of gateway conditions."""

from __future__ import annotations

import ast
import operator
import re
from typing import Any

import pytest
from RestrictedPython import compile_restricted_eval, safe_builtins

from engine.bpmn.juel import JuelError, is_juel, translate_juel


def _case(juel: str, data: dict[str, Any], expected: Any, case_id: str) -> Any:
    return pytest.param(juel, data, expected, id=case_id)


# (JUEL text, task data, the value JUEL would give)
EVALUATION_CASES = [
    # The five conditions from the issue, each with data sets that take both branches.
    _case("${approved}", {"approved": True}, True, "issue-approved-true"),
    _case("${approved}", {"approved": False}, False, "issue-approved-false"),
    _case("${!approved}", {"approved": True}, False, "issue-not-approved-true"),
    _case("${!approved}", {"approved": False}, True, "issue-not-approved-false"),
    _case("${decision == 'return'}", {"decision": "return"}, True, "issue-decision-return"),
    _case("${decision == 'return'}", {"decision": "approve"}, False, "issue-decision-approve"),
    _case("${fee > 10000 && !exempt}", {"fee": 20000, "exempt": False}, True, "issue-fee-high-not-exempt"),
    _case("${fee > 10000 && !exempt}", {"fee": 20000, "exempt": True}, False, "issue-fee-high-exempt"),
    _case("${fee > 10000 && !exempt}", {"fee": 10000, "exempt": False}, False, "issue-fee-boundary"),
    _case("${a <= 3 || b}", {"a": 3, "b": False}, True, "issue-a-le-3"),
    _case("${a <= 3 || b}", {"a": 4, "b": False}, False, "issue-a-gt-3-b-false"),
    _case("${a <= 3 || b}", {"a": 4, "b": True}, True, "issue-a-gt-3-b-true"),
    # Comparison operators, symbols and words.
    _case("${a == 1}", {"a": 1}, True, "op-eq"),
    _case("${a eq 1}", {"a": 2}, False, "word-eq"),
    _case("${a != 1}", {"a": 2}, True, "op-ne"),
    _case("${a ne 1}", {"a": 1}, False, "word-ne"),
    _case("${a < 2}", {"a": 1}, True, "op-lt"),
    _case("${a lt 1}", {"a": 1}, False, "word-lt"),
    _case("${a > 0}", {"a": 1}, True, "op-gt"),
    _case("${a gt 1}", {"a": 1}, False, "word-gt"),
    _case("${a <= 1}", {"a": 1}, True, "op-le"),
    _case("${a le 0}", {"a": 1}, False, "word-le"),
    _case("${a >= 2}", {"a": 1}, False, "op-ge"),
    _case("${a ge 1}", {"a": 1}, True, "word-ge"),
    _case("${name < 'b'}", {"name": "abc"}, True, "op-lt-strings"),
    # Logical operators, symbols and words.
    _case("${a && b}", {"a": True, "b": False}, False, "op-and"),
    _case("${a and b}", {"a": True, "b": True}, True, "word-and"),
    _case("${a || b}", {"a": False, "b": False}, False, "op-or"),
    _case("${a or b}", {"a": False, "b": True}, True, "word-or"),
    _case("${!a}", {"a": False}, True, "op-not"),
    _case("${not a}", {"a": True}, False, "word-not"),
    _case("${!!a}", {"a": True}, True, "op-not-not"),
    # Arithmetic.
    _case("${a + b}", {"a": 2, "b": 3}, 5, "op-plus"),
    _case("${a - b}", {"a": 2, "b": 3}, -1, "op-minus"),
    _case("${a * b}", {"a": 2, "b": 3}, 6, "op-times"),
    _case("${a / b}", {"a": 7, "b": 2}, 3.5, "op-divide-is-true-division"),
    _case("${a div b}", {"a": 6, "b": 3}, 2.0, "word-div"),
    _case("${a % b}", {"a": 7, "b": 3}, 1, "op-mod"),
    _case("${a mod b}", {"a": 8, "b": 3}, 2, "word-mod"),
    _case("${a mod b}", {"a": -7, "b": 3}, -1, "mod-negative-dividend-like-java"),
    _case("${a mod b}", {"a": 7, "b": -3}, 1, "mod-negative-divisor-like-java"),
    _case("${a mod b}", {"a": -7, "b": -3}, -1, "mod-both-negative"),
    _case("${a mod b}", {"a": -6, "b": 3}, 0, "mod-exact-negative"),
    _case("${a % 2}", {"a": -7.5}, -1.5, "mod-float-like-java"),
    _case("${a % 2 == 0}", {"a": -4}, True, "mod-even-test"),
    _case("${-a}", {"a": 2}, -2, "unary-minus"),
    _case("${- -a}", {"a": 2}, 2, "unary-minus-twice"),
    _case("${a - -b}", {"a": 2, "b": 3}, 5, "minus-negative"),
    _case("${10 - 4 - 3}", {}, 3, "minus-left-associative"),
    _case("${16 / 4 / 2}", {}, 2.0, "divide-left-associative"),
    _case("${2 * 3 % 4}", {}, 2, "times-mod-left-associative"),
    _case("${a + b * c - d / e}", {"a": 1, "b": 2, "c": 3, "d": 8, "e": 4}, 5.0, "arithmetic-mixed"),
    # Literals.
    _case("${42}", {}, 42, "lit-int"),
    _case("${007}", {}, 7, "lit-int-leading-zeros"),
    _case("${1.5}", {}, 1.5, "lit-decimal"),
    _case("${.5}", {}, 0.5, "lit-decimal-no-int-part"),
    _case("${1e3}", {}, 1000.0, "lit-exponent"),
    _case("${2.5E-1}", {}, 0.25, "lit-exponent-negative"),
    _case("${true}", {}, True, "lit-true"),
    _case("${false}", {}, False, "lit-false"),
    _case("${null}", {}, None, "lit-null"),
    _case("${'single'}", {}, "single", "lit-single-quoted"),
    _case('${"double"}', {}, "double", "lit-double-quoted"),
    _case(r"${'it\'s'}", {}, "it's", "escape-single-quote"),
    _case(r'${"say \"hi\""}', {}, 'say "hi"', "escape-double-quote"),
    _case(r"${'back\\slash'}", {}, "back\\slash", "escape-backslash"),
    _case("${\"it's\"}", {}, "it's", "other-quote-unescaped"),
    _case("${'a } b'}", {}, "a } b", "brace-inside-string"),
    _case("${'a && b || !c'}", {}, "a && b || !c", "operators-inside-string"),
    _case("${kind == '法人'}", {"kind": "法人"}, True, "japanese-string-match"),
    _case("${kind == '法人'}", {"kind": "個人"}, False, "japanese-string-no-match"),
    _case("${申請者.年齢 >= 18}", {"申請者": {"年齢": 20}}, True, "japanese-names"),
    # null.
    _case("${a == null}", {"a": None}, True, "null-eq-none"),
    _case("${a == null}", {"a": 0}, False, "null-eq-zero"),
    _case("${a != null}", {"a": ""}, True, "null-ne-empty-string"),
    _case("${null == a}", {"a": None}, True, "null-on-left"),
    _case("${a eq null}", {"a": False}, False, "null-word-eq-false"),
    _case("${a ne null}", {"a": None}, False, "null-word-ne"),
    # empty: true for null, '' and empty collections, false for 0 and false.
    _case("${empty a}", {"a": None}, True, "empty-none"),
    _case("${empty a}", {"a": ""}, True, "empty-string"),
    _case("${empty a}", {"a": []}, True, "empty-list"),
    _case("${empty a}", {"a": {}}, True, "empty-dict"),
    _case("${empty a}", {"a": 0}, False, "empty-zero-is-not-empty"),
    _case("${empty a}", {"a": 0.0}, False, "empty-float-zero-is-not-empty"),
    _case("${empty a}", {"a": False}, False, "empty-false-is-not-empty"),
    _case("${empty a}", {"a": "x"}, False, "empty-text"),
    _case("${empty a}", {"a": [0]}, False, "empty-list-with-item"),
    _case("${empty a}", {"a": {"k": None}}, False, "empty-dict-with-item"),
    _case("${not empty a}", {"a": []}, False, "not-empty"),
    _case("${empty a.b}", {"a": {"b": ""}}, True, "empty-binds-looser-than-dot"),
    _case("${empty a == false}", {"a": "x"}, True, "empty-binds-tighter-than-eq"),
    _case("${!empty items && items[0] == 1}", {"items": [1]}, True, "empty-then-index"),
    # Property and index access.
    _case(
        "${applicant.address.city == 'Sapporo'}",
        {"applicant": {"address": {"city": "Sapporo"}}},
        True,
        "dotted-nested",
    ),
    _case("${items[0]}", {"items": ["first", "second"]}, "first", "index-list"),
    _case("${m['key']}", {"m": {"key": 5}}, 5, "index-single-quoted-key"),
    _case('${m["key"]}', {"m": {"key": 5}}, 5, "index-double-quoted-key"),
    _case("${items[i + 1]}", {"items": [10, 20], "i": 0}, 20, "index-expression"),
    _case("${a.b[1].c}", {"a": {"b": [{"c": 1}, {"c": 2}]}}, 2, "dot-index-dot"),
    _case("${m[k].v}", {"m": {"x": {"v": "ok"}}, "k": "x"}, "ok", "index-by-variable"),
    _case("${rows[0]['name']}", {"rows": [{"name": "Sato"}]}, "Sato", "index-index"),
    _case("${a.class}", {"a": {"class": "A"}}, "A", "python-keyword-as-property"),
    _case("${a.empty}", {"a": {"empty": 1}}, 1, "juel-word-as-property"),
    _case("${-a.b}", {"a": {"b": 3}}, -3, "dot-binds-tighter-than-minus"),
    # Ternary.
    _case("${a ? 'x' : 'y'}", {"a": True}, "x", "ternary-then"),
    _case("${a ? 'x' : 'y'}", {"a": False}, "y", "ternary-else"),
    _case("${a ? 1 : b ? 2 : 3}", {"a": False, "b": True}, 2, "ternary-nested-right"),
    _case("${a ? 1 : b ? 2 : 3}", {"a": False, "b": False}, 3, "ternary-nested-right-last"),
    _case("${a ? b ? 1 : 2 : 3}", {"a": True, "b": False}, 2, "ternary-nested-middle"),
    _case("${a ? b ? 1 : 2 : 3}", {"a": False, "b": True}, 3, "ternary-nested-middle-else"),
    _case("${amount > 100 ? 'big' : 'small'}", {"amount": 50}, "small", "ternary-comparison-test"),
    _case("${a || b ? 1 : 2}", {"a": False, "b": True}, 1, "ternary-looser-than-or"),
    _case("${(a ? 1 : 2) + 1}", {"a": True}, 2, "ternary-in-parentheses"),
    # Parentheses and precedence.
    _case("${(1 + 2) * 3}", {}, 9, "parens-arithmetic"),
    _case("${!(a && b)}", {"a": True, "b": False}, True, "parens-not-and"),
    _case("${((a))}", {"a": 1}, 1, "parens-redundant"),
    _case("${!a && b}", {"a": False, "b": False}, False, "prec-not-before-and"),
    _case("${a || b && c}", {"a": True, "b": False, "c": False}, True, "prec-and-before-or"),
    _case("${1 + 2 * 3 == 7}", {}, True, "prec-times-plus-eq"),
    _case("${-x > 3}", {"x": -5}, True, "prec-unary-minus-before-gt"),
    _case("${not a == b}", {"a": 0, "b": 5}, False, "prec-not-before-eq"),
    _case("${a < b == c}", {"a": 1, "b": 2, "c": True}, True, "prec-no-python-chaining"),
    _case("${a == b && c}", {"a": 1, "b": 1, "c": True}, True, "prec-eq-before-and"),
    _case("${a + 1 > b * 2}", {"a": 4, "b": 2}, True, "prec-arith-before-compare"),
    # Whitespace and delimiters.
    _case("  ${approved}  ", {"approved": True}, True, "space-around"),
    _case("${ approved }", {"approved": True}, True, "space-inside"),
    _case("${\n\tfee>10000&&!exempt\n}", {"fee": 20000, "exempt": False}, True, "newlines-tabs-no-spaces"),
    _case("${a==1||b}", {"a": 1, "b": False}, True, "no-spaces"),
    _case("#{approved}", {"approved": True}, True, "deferred-syntax"),
    _case("#{ fee > 10 && !exempt }", {"fee": 11, "exempt": False}, True, "deferred-syntax-spaces"),
]


def _evaluate(code: str, data: dict[str, Any]) -> Any:
    # The task data is the only namespace; no builtins, so helper functions would fail here.
    return eval(code, {"__builtins__": {}}, dict(data))


def _same(actual: Any, expected: Any) -> bool:
    # Check the type too so that True does not pass for 1, nor 2 for 2.0.
    return actual == expected and type(actual) is type(expected)


@pytest.mark.parametrize(("juel", "data", "expected"), EVALUATION_CASES)
def test_translation_evaluates_like_juel(juel: str, data: dict[str, Any], expected: Any) -> None:
    code = translate_juel(juel)
    compile(code, "<juel>", "eval")
    result = _evaluate(code, data)
    assert _same(result, expected), f"{juel} -> {code} gave {result!r}"


@pytest.mark.parametrize(("juel", "data", "expected"), EVALUATION_CASES)
def test_translation_uses_only_the_juel_variables(juel: str, data: dict[str, Any], expected: Any) -> None:
    tree = ast.parse(translate_juel(juel), mode="eval")
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert names <= set(re.findall(r"\w+", juel))
    assert not any(isinstance(node, ast.Call | ast.Attribute | ast.Lambda) for node in ast.walk(tree))


@pytest.mark.parametrize(("juel", "data", "expected"), EVALUATION_CASES)
def test_translation_runs_under_restricted_python(juel: str, data: dict[str, Any], expected: Any) -> None:
    compiled = compile_restricted_eval(translate_juel(juel))
    assert compiled.errors == ()
    # Task data are globals in the engine; RestrictedPython routes x[k] through _getitem_.
    namespace = {"__builtins__": safe_builtins, "_getitem_": operator.getitem, **data}
    assert _same(eval(compiled.code, namespace), expected)


@pytest.mark.parametrize(
    ("juel", "python"),
    [
        pytest.param("${!a && b}", "((not a) and b)", id="not-and"),
        pytest.param("${a || b && c}", "(a or (b and c))", id="or-and"),
        pytest.param("${not a == b}", "((not a) == b)", id="not-eq"),
        pytest.param("${-x > 3}", "((-x) > 3)", id="minus-gt"),
        pytest.param("${1 + 2 * 3 == 7}", "((1 + (2 * 3)) == 7)", id="arith-eq"),
        pytest.param("${a ? b : c ? d : e}", "(b if a else (d if c else e))", id="ternary-right-assoc"),
        pytest.param("${a.b['c'][0]}", "a['b']['c'][0]", id="access"),
        pytest.param("${empty x}", "(x in (None, '', [], {}))", id="empty"),
        pytest.param("${a == null}", "(a is None)", id="eq-null"),
        pytest.param("${null ne a}", "(a is not None)", id="ne-null"),
        pytest.param("${x mod 2}", "(((x % 2) - 2) if ((x % 2) != 0 and (x < 0)) else (x % 2))", id="mod"),
        pytest.param("${1e3}", "1000.0", id="float"),
    ],
)
def test_emitted_source(juel: str, python: str) -> None:
    assert translate_juel(juel) == python


@pytest.mark.parametrize(
    ("juel", "column", "fragment"),
    [
        pytest.param("${a.b()}", 6, "method and function calls are not supported", id="method-call"),
        pytest.param("${user.isAdmin(x)}", 15, "compute the value in a script task", id="method-call-arg"),
        pytest.param("${fn:upper(x) == 'A'}", 11, "method and function calls", id="function-call-namespaced"),
        pytest.param("${size(items)}", 7, "method and function calls", id="function-call-plain"),
        pytest.param("${(a)(b)}", 6, "method and function calls", id="call-on-parenthesised"),
        pytest.param("${x -> x + 1}", 5, "lambda", id="lambda"),
        pytest.param("${a = 1}", 5, "use '==' to compare", id="assignment"),
        pytest.param("${a === 1}", 7, "assignment", id="assignment-triple-eq"),
        pytest.param("${a; b}", 4, "';'", id="semicolon"),
        pytest.param("${a += 'x'}", 5, "'+='", id="string-concat"),
        pytest.param("${{1, 2}}", 3, "collection literals", id="collection-set-or-map"),
        pytest.param("${a == {}}", 8, "collection literals", id="collection-empty-map"),
        pytest.param("${[1, 2]}", 3, "collection literals", id="collection-list"),
        pytest.param("${_secret}", 3, "starts with '_'", id="underscore"),
        pytest.param("${a && __import__}", 8, "starts with '_'", id="underscore-dunder"),
        pytest.param("${class == 'A'}", 3, "Python keyword", id="keyword-class"),
        pytest.param("${lambda}", 3, "Python keyword", id="keyword-lambda"),
        pytest.param("${a || if}", 8, "Python keyword", id="keyword-if"),
        pytest.param("${True}", 3, "write true", id="python-true"),
        pytest.param("${None}", 3, "write null", id="python-none"),
        pytest.param("${a$b}", 3, "not a valid Python name", id="dollar-in-name"),
        pytest.param("${ｆｅｅ > 1}", 3, "Python would rewrite", id="fullwidth-name"),
        pytest.param("${printed}", 3, "reserved by the sandbox", id="sandbox-reserved"),
        pytest.param("${}", 3, "empty", id="empty-expression"),
        pytest.param("${   }", 6, "empty", id="empty-expression-spaces"),
        pytest.param("${a == 'x}", 8, "unterminated string", id="unterminated-string"),
        pytest.param('${a == "x', 8, "unterminated string", id="unterminated-string-double"),
        pytest.param(r"${'a\nb'}", 5, "invalid escape", id="invalid-escape"),
        pytest.param("${(a}", 3, "never closed", id="unclosed-paren"),
        pytest.param("${((a) && b}", 3, "never closed", id="unclosed-outer-paren"),
        pytest.param("${a)}", 4, "no matching '('", id="extra-close-paren"),
        pytest.param("${(a b)}", 6, "expected ')'", id="paren-with-garbage"),
        pytest.param("${a[0}", 4, "never closed", id="unclosed-bracket"),
        pytest.param("${a]}", 4, "no matching '['", id="extra-close-bracket"),
        pytest.param("Hello ${name}", 1, "single ${...} expression", id="composite-text-before"),
        pytest.param("${a} and more", 6, "single ${...} expression", id="composite-text-after"),
        pytest.param("${a}${b}", 5, "single ${...} expression", id="composite-two-expressions"),
        pytest.param("approved", 1, "single ${...} expression", id="not-juel"),
        pytest.param("${a", 1, "add '}'", id="missing-closing-brace"),
        pytest.param("${a b}", 5, "after a complete expression", id="trailing-name"),
        pytest.param("${a == 1 2}", 10, "after a complete expression", id="trailing-number"),
        pytest.param("${a ? b : c : d}", 13, "after a complete expression", id="trailing-colon"),
        pytest.param("${a &&}", 7, "value was expected", id="dangling-operator"),
        pytest.param("${* a}", 3, "expected a value", id="leading-binary-operator"),
        pytest.param("${a ? b}", 5, "matching ':'", id="ternary-without-colon"),
        pytest.param("${a.}", 4, "property name", id="dot-without-name"),
        pytest.param("${a instanceof b}", 5, "instanceof", id="instanceof"),
        pytest.param("${'abc'[0]}", 8, "not a literal", id="index-into-literal"),
        pytest.param("${a & b}", 5, "'&&'", id="single-ampersand"),
        pytest.param("${a | b}", 5, "'||'", id="single-bar"),
        pytest.param("${a @ b}", 5, "unexpected character", id="stray-character"),
        pytest.param("${1e999 > a}", 3, "too large", id="number-overflow"),
    ],
)
def test_refusals(juel: str, column: int, fragment: str) -> None:
    with pytest.raises(JuelError) as caught:
        translate_juel(juel)
    assert caught.value.column == column
    assert fragment in caught.value.message


def test_error_is_a_value_error_naming_the_column() -> None:
    with pytest.raises(ValueError, match=r"column 6") as caught:
        translate_juel("${a.b()}")
    assert isinstance(caught.value, JuelError)
    assert caught.value.message == (
        "method and function calls are not supported; compute the value in a script task first"
    )
    assert str(JuelError("no place")) == "no place"
    assert JuelError("no place").column is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("${approved}", True, id="dollar"),
        pytest.param("#{approved}", True, id="hash"),
        pytest.param("  \n${a == 1}\t", True, id="surrounding-whitespace"),
        pytest.param("${a}${b}", True, id="composite-is-juel-then-refused"),
        pytest.param("${", True, id="unfinished-is-juel-then-refused"),
        pytest.param("amount > 100", False, id="plain-python"),
        pytest.param("approved and not exempt", False, id="plain-python-words"),
        pytest.param("x == '${a}'", False, id="python-string-containing-dollar-brace"),
        pytest.param("Hello ${name}", False, id="text-before"),
        pytest.param("$approved", False, id="dollar-without-brace"),
        pytest.param("$ {approved}", False, id="dollar-space-brace"),
        pytest.param("{approved}", False, id="brace-only"),
        pytest.param("", False, id="empty"),
        pytest.param("   ", False, id="blank"),
    ],
)
def test_is_juel(text: str, expected: bool) -> None:
    assert is_juel(text) is expected
