"""The script sandbox: what scripts may do, what they may not, and the limits (engine/scripting)."""

from __future__ import annotations

import json
import pickle
import threading
from datetime import date, timedelta
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from engine.scripting import (
    ForbiddenCode,
    SandboxEnvironment,
    ScriptError,
    ScriptLimitExceeded,
    ScriptLimits,
    check_expression,
    check_script,
    compile_expression,
    compile_script,
)
from engine.scripting import limits as limits_module
from engine.scripting.guards import guarded_getattr


@pytest.fixture
def env() -> SandboxEnvironment:
    return SandboxEnvironment()


# -- what scripts and conditions may do ------------------------------------------------------


def test_typical_condition(env):
    data = {"amount": 200_000, "applicant_type": "corporate"}
    assert env.evaluate("amount > 100000 and applicant_type == 'corporate'", data) is True
    assert env.evaluate("applicant_type in ('individual', 'sole')", data) is False
    assert env.evaluate("not approved", {"approved": False}) is True


def test_expression_reads_items_dict_get_and_comprehensions(env):
    data = {"items": [{"qty": 2}, {"qty": 5}], "form": {"city": "Sapporo"}}
    assert env.evaluate("items[0]['qty']", data) == 2
    assert env.evaluate("form.get('ward', 'none')", data) == "none"
    assert env.evaluate("[i['qty'] for i in items if i['qty'] > threshold]", {**data, "threshold": 3}) == [5]
    assert env.evaluate("sum(i['qty'] for i in items)", data) == 7


def test_expression_does_not_change_task_data(env):
    data = {"x": 1}
    assert env.evaluate("[y := 5, x]", data) == [5, 1]
    assert data == {"x": 1}


def test_expression_with_surrounding_blanks(env):
    assert env.evaluate("\n   x + 1\n  ", {"x": 1}) == 2


def test_external_context_is_read_but_task_data_wins(env):
    assert env.evaluate("a + b", {"a": 1}, {"a": 100, "b": 10}) == 11
    data = {"a": 1}
    env.execute("c = shared * 2\nshared = 0", data, {"shared": 21})
    assert data == {"a": 1, "c": 42}  # data objects are read-only for scripts, as in Spiff


def test_script_builds_data(env):
    data = {"items": [{"name": "印鑑登録証明書", "qty": 2, "price": 300},
                      {"name": "住民票の写し", "qty": 1, "price": 300}], "old": 1}
    env.execute("""
total = 0
lines = []
for item in items:
    total += item['qty'] * item['price']
    lines.append(f"{item['name']} x{item['qty']}")
summary = {'total': total, 'count': len(items), 'lines': lines}
names = ', '.join(sorted(i['name'] for i in items))
counts = {}
for word in 'a b a'.split():
    counts[word] = counts.get(word, 0) + 1
counts['a'] += 10
first, *rest = [1, 2, 3]
del old
""", data)
    assert data["total"] == 900
    assert data["summary"] == {"total": 900, "count": 2, "lines": ["印鑑登録証明書 x2", "住民票の写し x1"]}
    assert data["counts"] == {"a": 12, "b": 1}
    assert (data["first"], data["rest"]) == (1, [2, 3])
    assert "old" not in data
    json.dumps(data)  # stays JSON-friendly


def test_functions_lambdas_and_control_flow(env):
    data = {"n": 10}
    env.execute("""
def fee(amount, rate=10):
    if amount <= 0:
        raise ValueError('amount must be positive')
    return amount * rate // 100

def fact(k):
    return 1 if k <= 1 else k * fact(k - 1)

square = lambda v: v * v
result = fee(1000)
f10 = fact(n)
by_len = sorted(['ccc', 'a', 'bb'], key=lambda s: len(s))
i = 0
while True:
    i += 1
    if i >= n:
        break
try:
    parsed = int('12a')
except ValueError:
    parsed = None
squares = list(map(square, range(4)))
evens = list(filter(lambda v: v % 2 == 0, range(6)))
pairs = dict(zip(['a', 'b'], [1, 2]))
indexed = list(enumerate('xy'))
backwards = list(reversed([1, 2, 3]))
""", data)
    assert data["result"] == 100
    assert data["f10"] == 3_628_800
    assert data["by_len"] == ["a", "bb", "ccc"]
    assert data["i"] == 10
    assert data["parsed"] is None
    assert data["squares"] == [0, 1, 4, 9]
    assert data["evens"] == [0, 2, 4]
    assert data["pairs"] == {"a": 1, "b": 2}
    assert data["indexed"] == [(0, "x"), (1, "y")]
    assert data["backwards"] == [3, 2, 1]
    # Functions, lambdas and iterators are not data: they do not end up in the task data.
    assert {"fee", "fact", "square"}.isdisjoint(data)


def test_string_methods_and_formatting(env):
    data = {"name": " yamada taro ", "code": "7"}
    env.execute("""
clean = name.strip().title()
padded = code.zfill(3)
label = clean.ljust(14, '.') + '|'
parts = 'a,b,,c'.split(',')
joined = '-'.join(p for p in parts if p)
swapped = joined.replace('-', '/')
amount = f'{1234567:,}円'
rate = f'{0.125:.1%}'
old_style = '%s: %05d' % ('no', 42)
starts = clean.startswith('Yamada') and 'Taro' in clean
upper = str.upper(clean)
is_text = isinstance(clean, str) and not isinstance(clean, (int, float))
number = int('42') + int(Decimal('7.9'))
as_text = str(number) + str([1, 2])
""", data)
    assert data["clean"] == "Yamada Taro"
    assert data["padded"] == "007"
    assert data["label"] == "Yamada Taro...|"
    assert data["joined"] == "a-b-c" and data["swapped"] == "a/b/c"
    assert data["amount"] == "1,234,567円" and data["rate"] == "12.5%"
    assert data["old_style"] == "no: 00042"
    assert data["starts"] is True and data["is_text"] is True
    assert data["upper"] == "YAMADA TARO"
    assert data["number"] == 49 and data["as_text"] == "49[1, 2]"


def test_dates_and_decimals(env):
    data = {"received": date(2024, 3, 29)}
    env.execute("""
due = received + timedelta(days=14)
days_left = (due - received).days
weekday = due.weekday()
stamp = due.isoformat()
jst = timezone(timedelta(hours=9))
deadline = datetime(due.year, due.month, due.day, 17, 0, tzinfo=jst)
fee = Decimal('1234.5') * 2
rounded = round(Decimal('2.675'), 2)
today = date.today()
parsed = datetime.strptime('2024-04-01 09:30', '%Y-%m-%d %H:%M')
""", data)
    assert isinstance(data["today"], date)
    assert data["parsed"].hour == 9
    assert data["due"] == date(2024, 4, 12)
    assert data["days_left"] == 14
    assert data["stamp"] == "2024-04-12"
    assert data["deadline"].utcoffset() == timedelta(hours=9)
    assert data["fee"] == Decimal("2469.0")
    assert data["rounded"] == Decimal("2.68") or data["rounded"] == Decimal("2.67")
    assert "jst" in data  # a timezone is a value, not a callable


def test_non_data_values_are_dropped(env):
    data = {"keep": 1, "replaced": 2}
    env.execute("""
def replaced():
    return 1
helper = str
numbers = map(abs, [-1])
span = range(3)
keys = {'a': 1}.keys()
kept = keep
""", data)
    assert data == {"keep": 1, "kept": 1}


def test_task_data_names_starting_with_underscore_are_left_alone(env):
    data = {"_meta": {"v": 1}, "_getattr_": "shadow attempt", "x": 1}
    env.execute("y = x + 1", data)
    assert data == {"_meta": {"v": 1}, "_getattr_": "shadow attempt", "x": 1, "y": 2}


def test_helpers_are_callable_and_not_stored(env):
    helpers = {"tax": lambda amount: amount * 10 // 100, "CITY": "札幌市"}
    sandbox = SandboxEnvironment(helpers=helpers)
    data = {"amount": 5000}
    sandbox.execute("with_tax = amount + tax(amount)\ncity = CITY", data)
    assert data == {"amount": 5000, "with_tax": 5500, "city": "札幌市"}
    assert sandbox.evaluate("tax(amount) == 500", data) is True
    with pytest.raises(ValueError):
        SandboxEnvironment(helpers={"_secret": 1})


def test_print_is_accepted_and_discarded(env, capsys):
    data = {}
    env.execute("print('debug', 1)\nx = 1", data)
    assert data == {"x": 1}
    assert capsys.readouterr().out == ""


def test_sandboxed_code_cannot_run_after_its_evaluation(env):
    leaked_function = env.evaluate("lambda: 1", {})
    with pytest.raises(ScriptError, match="only run inside"):
        leaked_function()
    leaked_generator = env.evaluate("(i for i in items)", {"items": [1, 2]})
    with pytest.raises(ScriptError, match="after its evaluation"):
        list(leaked_generator)


def test_ordinary_errors_keep_their_type(env):
    with pytest.raises(ZeroDivisionError):
        env.execute("x = 1\ny = x / 0", {})
    with pytest.raises(NameError):
        env.evaluate("missing > 1", {})


def test_failed_script_leaves_variables_unchanged(env):
    data = {"x": 1}
    with pytest.raises(ZeroDivisionError):
        env.execute("x = 2\ny = 3\nz = 1 / 0", data)
    assert data == {"x": 1}


# -- compilation ---------------------------------------------------------------------------


def test_compiled_code_is_cached():
    assert compile_expression("a + b > 3") is compile_expression("a + b > 3")
    assert compile_script("x = 1\ny = x") is compile_script("x = 1\ny = x")


def test_check_functions_refuse_early_with_line_numbers():
    check_expression("amount > 100000")
    check_script("x = 1")
    with pytest.raises(ForbiddenCode) as info:
        check_script("x = 1\ny = 2\nimport os\n")
    assert info.value.lineno == 3
    assert str(info.value).startswith("Line 3: 'import' is not allowed")
    assert "service task" in str(info.value)
    with pytest.raises(ForbiddenCode, match="syntax error"):
        check_expression("x = 1")  # a statement is not an expression
    with pytest.raises(ForbiddenCode, match="syntax error") as info:
        check_script("if x:\nprint(1)")
    assert info.value.lineno == 2


def test_indented_script_from_xml_compiles():
    check_script("\n    x = 1\n    if x:\n        y = 2\n")


# -- escapes -------------------------------------------------------------------------------

# Each payload would create the marker file (or reach something that can) if it got through.
ESCAPES = {
    "import_statement": "import os\nos.system('touch ' + marker)",
    "from_import": "from os import system\nsystem('touch ' + marker)",
    "dunder_import": "__import__('os').system('touch ' + marker)",
    "eval": "eval(\"__import__('os').system('touch ' + marker)\")",
    "exec": "exec(\"open(marker, 'w').write('x')\")",
    "compile": "code = compile(\"open(marker, 'w')\", 'x', 'exec')",
    "open_file": "open(marker, 'w').write('escaped')",
    "subclasses_walk": "[c for c in ().__class__.__bases__[0].__subclasses__()"
                       " if c.__name__ == 'catch_warnings'][0]()._module.__builtins__['open'](marker, 'w')",
    "getattr_dunder": "cls = getattr((), '__class__')",
    "getattr_runtime_name": "fmt = getattr('', 'for' + 'mat')\nfmt('{0.__class__}', 1)",
    "str_format_attribute": "leak = '{0.__class__.__base__}'.format(1)",
    "str_format_map": "leak = '{a.__class__}'.format_map({'a': 1})",
    "str_format_via_type": "leak = str.format('{0.__class__}', 1)",
    "string_formatter": "import string\nleak = string.Formatter().format('{0.__class__}', 1)",
    "fstring_dunder": "leak = f'{marker.__class__.__mro__}'",
    "generator_frame": "g = (i for i in [1])\ng.gi_frame.f_builtins['open'](marker, 'w')",
    "generator_code": "g = (i for i in [1])\ncode = g.gi_code",
    "type_mro": "root = type(1).__mro__[-1]",
    "mro_method": "root = int.mro()[-1]",
    "mro_in_comprehension": "classes = [c for c in ().__class__.__mro__]",
    "globals": "globals()['__builtins__']['open'](marker, 'w')",
    "vars": "b = vars()['__builtins__']",
    "locals": "b = locals()",
    "dir": "names = dir()",
    "builtins_name": "__builtins__['open'](marker, 'w')",
    "lambda_default_shadows_guard": "f = lambda _getattr_=None: _getattr_\nf()",
    "positional_only_shadows_guard": "def f(_getiter_, /):\n    return 1",
    "walrus_shadows_guard": "(_getattr_ := None)",
    "except_as_shadows_guard": "try:\n    pass\nexcept Exception as _write_:\n    pass",
    "setattr": "setattr(marker, 'x', 1)",
    "delattr": "delattr(marker, 'upper')",
    "private_attribute": "x = marker._private",
    "super": "s = super()",
    "type_creates_class": "A = type('A', (), {})",
    "class_definition": "class A:\n    pass",
    "traceback_frame": "try:\n    1 / 0\nexcept Exception as e:\n    g = e.__traceback__.tb_frame.f_globals",
    "frame_attribute_without_dunder": "try:\n    1 / 0\nexcept Exception as e:\n    t = e.tb_frame",
    "generator_function": "def g():\n    yield 1",
    "match_class_pattern": "match marker:\n    case str(x):\n        pass",
    "except_star": "try:\n    pass\nexcept* ValueError:\n    pass",
    "async_function": "async def f():\n    pass",
    "breakpoint": "breakpoint()",
    "int_to_bytes": "b = (1).to_bytes(10**10, 'big')",
    "int_from_bytes": "n = int.from_bytes(b'x', 'big')",
}


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_escape_is_refused(env, tmp_path, source):
    marker = tmp_path / "escaped"
    data = {"marker": str(marker)}
    with pytest.raises(ScriptError):
        env.execute(source, data)
    with pytest.raises(ForbiddenCode):  # and already at deploy time
        check_script(source)
    assert not marker.exists()
    assert data == {"marker": str(marker)}


@pytest.mark.parametrize("expression", [
    "().__class__", "__import__('os')", "open('/etc/hostname').read()", "eval('1')",
    "'{0.__class__}'.format(1)", "[c for c in ().__class__.__mro__]", "globals()",
])
def test_escape_in_condition_is_refused(env, expression):
    with pytest.raises(ForbiddenCode):
        env.evaluate(expression, {})


def test_runtime_attribute_guard_refuses_on_its_own():
    # The compiler already refuses these names; the guard must hold even if it did not.
    run, token = limits_module.start(ScriptLimits())
    try:
        for name in ("format", "__class__", "mro", "gi_frame"):
            with pytest.raises(ForbiddenCode):
                guarded_getattr("", name)
    finally:
        limits_module.finish(run, token)


def test_refusal_cannot_be_swallowed(env):
    script = "try:\n    x = 'a' * 10**10\nexcept Exception:\n    x = 'caught'"
    with pytest.raises(ScriptLimitExceeded):
        env.execute(script, {})
    script = "def f():\n    try:\n        while True:\n            pass\n    finally:\n        return 1\nx = f()"
    with pytest.raises(ScriptLimitExceeded):
        env.execute(script, {})


# -- limits --------------------------------------------------------------------------------

BOMBS = {
    "while_true": "while True:\n    pass",
    "list_of_huge_range": "x = list(range(10**9))",
    "list_times_huge": "x = [0] * 10**9",
    "str_times_huge": "x = 'a' * 10**10",
    "huge_power": "x = 7 ** 10**8",
    "huge_shift": "x = 1 << 10**9",
    "squaring_loop": "x = 3\nfor i in range(40):\n    x = x * x",
    "comprehension_over_huge_range": "x = [v for v in range(10**9)]",
    "sum_of_huge_range": "x = sum(range(10**12))",
    "ljust": "x = 'x'.ljust(10**10)",
    "unbound_ljust": "x = str.ljust('x', 10**10)",
    "join_chain": "x = '-'.join(['x'] * 10**6)",
    "doubling_concatenation": "s = 'ab'\nwhile True:\n    s = s + s",
    "doubling_augmented": "s = [1]\nwhile True:\n    s += s",
    "doubling_extend": "s = [1]\nwhile True:\n    s.extend(s)",
    "doubling_slice_assignment": "s = [1]\nwhile True:\n    s[:0] = s",
    "doubling_starred_literal": "s = [1]\nwhile True:\n    s = [*s, *s]",
    "doubling_fstring": "s = 'a'\nwhile True:\n    s = f'{s}{s}'",
    "doubling_percent": "s = 'a'\nwhile True:\n    s = '%s%s' % (s, s)",
    "percent_width": "s = '%999999999d' % 1",
    "fstring_width": "s = f'{1:>999999999}'",
    "replace_blowup": "s = 'a' * 1000\ns = s.replace('a', 'b' * 10000)",
    "expandtabs_blowup": "s = '\\t' * 100000\ns = s.expandtabs(100000)",
    "translate_blowup": "s = 'a' * 100000\ns = s.translate({97: 'b' * 100000})",
    "sum_of_lists": "x = sum([[0] * 1000] * 1000000, [])",
    "zip_of_many": "l = list(range(10**6))\nx = list(zip(*[l] * 1000))",
    "str_of_self_nested_list": "x = [0]\nfor i in range(60):\n    x = [x, x]\ns = str(x)",
    "self_nested_list_in_task_data": "x = [0]\nfor i in range(60):\n    x = [x, x]",
    "exception_carrying_huge_value": "x = [0]\nfor i in range(60):\n    x = [x, x]\nraise ValueError(x)",
    "exponential_recursion": "def f(n):\n    return f(n - 1) + f(n - 1) if n else 1\nx = f(100)",
    "exponential_lambda": "f = lambda n: f(n - 1) + f(n - 1) if n else 1\nx = f(100)",
    "decimal_to_huge_int": "x = int(Decimal('1e999999999'))",
    "decimal_round_to_huge_int": "x = round(Decimal('1e999999999'))",
    "round_to_huge_negative_digits": "x = round(123, -10**9)",
    "int_from_long_hex_text": "x = int('f' * 10**6, 16)",
    "str_keyword_argument": "x = [0]\nfor i in range(60):\n    x = [x, x]\ns = str(object=x)",
    "decimal_fixed_point_text": "x = f\"{Decimal('1e999999999'):f}\"",
    "decimal_percent_d": "x = '%d' % Decimal('1e999999999')",
}


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_bomb_stops_with_limit_error(env, source):
    data = {}
    with pytest.raises(ScriptLimitExceeded) as info:
        env.execute(source, data)
    assert info.value.limit in ("max_iterations", "max_sequence_length", "max_int_bits", "max_data_size")
    assert f"{info.value.value:,}" in str(info.value)
    assert data == {}


def test_limit_message_names_limit_and_line():
    sandbox = SandboxEnvironment(limits=ScriptLimits(max_iterations=100))
    sandbox.execute("for i in range(90):\n    pass", {})
    with pytest.raises(ScriptLimitExceeded) as info:
        sandbox.execute("x = 0\nwhile x >= 0:\n    x += 1", {})
    assert info.value.limit == "max_iterations" and info.value.value == 100
    assert info.value.lineno == 2
    assert "max_iterations" in str(info.value) and "MADOGUCHI_SCRIPT_MAX_ITERATIONS" in str(info.value)


def test_time_limit():
    sandbox = SandboxEnvironment(limits=ScriptLimits(max_iterations=10**12, max_seconds=0.01))
    with pytest.raises(ScriptLimitExceeded) as info:
        sandbox.execute("while True:\n    pass", {})
    assert info.value.limit == "max_seconds"


def test_limits_are_configurable():
    roomy = SandboxEnvironment(limits=ScriptLimits(max_sequence_length=2_000_000))
    assert len(roomy.evaluate("'a' * 1_500_000", {})) == 1_500_000
    with pytest.raises(ScriptLimitExceeded):
        SandboxEnvironment().evaluate("'a' * 1_500_000", {})


def test_expression_result_size_is_bounded(env):
    with pytest.raises(ScriptLimitExceeded) as info:
        env.evaluate("[x := [0]] and [x := [x, x] for i in range(60)] and x", {})
    assert info.value.limit == "max_data_size"


def test_budgets_are_per_evaluation_and_per_thread():
    sandbox = SandboxEnvironment(limits=ScriptLimits(max_iterations=5_000))
    script = "total = 0\nfor i in range(4_000):\n    total += i"
    failures = []

    def worker():
        try:
            for _ in range(5):
                data = {}
                sandbox.execute(script, data)
                assert data["total"] == sum(range(4_000))
        except Exception as error:  # collected for the main thread
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_errors_survive_pickling():
    error = ScriptLimitExceeded("too many", "max_iterations", 10).at_line(3)
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), str(copy), copy.limit, copy.value, copy.lineno) == (
        ScriptLimitExceeded, "Line 3: too many", "max_iterations", 10, 3)


# -- SpiffWorkflow integration ---------------------------------------------------------------

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="defs" targetNamespace="urn:test">
  <bpmn:process id="fee" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="calculate" scriptFormat="python">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:exclusiveGateway id="route" default="to_low">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>to_high</bpmn:outgoing><bpmn:outgoing>to_low</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="high"><bpmn:incoming>to_high</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="low"><bpmn:incoming>to_low</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="calculate"/>
    <bpmn:sequenceFlow id="f2" sourceRef="calculate" targetRef="route"/>
    <bpmn:sequenceFlow id="to_high" sourceRef="route" targetRef="high">
      <bpmn:conditionExpression>{condition}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="to_low" sourceRef="route" targetRef="low"/>
  </bpmn:process>
</bpmn:definitions>"""


def _run_process(script: str, condition: str, data: dict) -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(PROCESS.format(script=escape(script), condition=escape(condition)).encode())
    engine = PythonScriptEngine(environment=SandboxEnvironment())
    workflow = BpmnWorkflow(parser.get_spec("fee"), script_engine=engine)
    workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
    workflow.do_engine_steps()
    return workflow


def test_process_runs_script_task_and_gateway():
    workflow = _run_process("total = sum(i['qty'] * i['price'] for i in items)\nfee = total // 10",
                            "total > 1000", {"items": [{"qty": 3, "price": 500}]})
    assert workflow.is_completed()
    completed = {task.task_spec.name for task in workflow.get_tasks(state=TaskState.COMPLETED)}
    assert "high" in completed and "low" not in completed
    assert workflow.data == {"items": [{"qty": 3, "price": 500}], "total": 1500, "fee": 150}


def test_process_refuses_hostile_script():
    with pytest.raises(WorkflowTaskException) as info:
        _run_process("import os\nos.system('id')", "True", {})
    assert "ForbiddenCode" in str(info.value) and "'import' is not allowed" in str(info.value)
    assert isinstance(info.value.__context__, ForbiddenCode)


def test_process_refuses_hostile_condition():
    with pytest.raises(WorkflowTaskException) as info:
        _run_process("x = 1", "().__class__.__bases__[0].__subclasses__()", {})
    assert isinstance(info.value.__context__, ForbiddenCode)
    assert info.value.error_type == "ForbiddenCode"


def test_process_stops_endless_loop_with_line():
    with pytest.raises(WorkflowTaskException) as info:
        _run_process("x = 1\nwhile True:\n    x += 1", "True", {})
    assert "ScriptLimitExceeded" in str(info.value)
    assert info.value.line_number == 2 and info.value.error_line == "while True:"
