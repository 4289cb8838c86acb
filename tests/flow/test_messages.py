"""Messages that say how to fix (issue 11, item 2): names a template uses that do not exist
are refused by ``validate`` and ``run`` before any task runs, with file:line and a caret
under the bad part; typed inputs say what to write; BOOLEAN values other than true/false
are a warning; a flow output's literal value is checked against its type; an unknown task
type gets a suggestion only when one is close.

Pebble facts (rendered by Pebble 3.2.2 + Kestra 58c1ca2, the pebble-oracle): an unknown
filter or function fails only when the template renders ('{% if false %}{{ "x" | uper }}
{% endif %}ok' gives 'ok'), with "Filter [uper] does not exist." / "Function or Macro
[nofn] does not exist."; kflow refuses such a flow up front (a decision: these names are
always mistakes), keeping Pebble's wording first."""

from __future__ import annotations

import json

import pytest

from kflow.errors import ExpressionError, FlowValidationError, InputError
from kflow.flow.inputs import input_notices, resolve_inputs
from kflow.flow.model import InputSpec
from kflow.flow.validate import check_expressions, parse_flow


def flow_text(message: str, inputs: str = "") -> str:
    head = f"inputs:\n{inputs}" if inputs else ""
    return (
        "id: f\nnamespace: company.team\n" + head + "tasks:\n"
        "  - id: hello\n"
        "    type: io.kestra.plugin.core.log.Log\n"
        f"    message: {json.dumps(message)}\n"
    )


NAME_INPUT = "  - id: name\n    type: STRING\n    defaults: bob\n"


def problems(text: str, *, check_templates: bool = True) -> list[ExpressionError]:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(text, "flow.yml", check_templates=check_templates)
    found = info.value.problems
    assert all(isinstance(p, ExpressionError) for p in found), found
    return found  # type: ignore[return-value]


def only(text: str) -> ExpressionError:
    found = problems(text)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


# ------------------------------------------------------------- names in templates, at load


def test_unknown_filter_has_pebble_wording_position_and_suggestion() -> None:
    template = "Hi {{ inputs.name | uper }}"
    err = only(flow_text(template, NAME_INPUT))
    assert err.message == "task 'hello', property 'message': Filter [uper] does not exist."
    assert (err.path, err.line) == ("flow.yml", 10)  # the `message:` line
    assert err.template == template
    assert err.position is not None and template[err.position :].startswith("uper")
    assert err.hint == "did you mean upper?"


def test_unknown_function_and_test() -> None:
    found = problems(flow_text("{{ nofn(1) }} {{ 1 is evn }}"))
    assert [p.message.split(": ", 1)[1] for p in found] == [
        "Function or Macro [nofn] does not exist.",
        "Test [evn] does not exist.",
    ]
    assert found[1].hint == "did you mean even?"
    assert "kestra.io/docs/expressions" in (found[0].hint or "")


def test_a_function_used_as_a_filter_and_the_reverse_say_which_form_exists() -> None:
    as_filter, as_function = problems(flow_text("{{ '{}' | fromJson }} {{ toJson(1) }}"))
    assert "Filter [fromJson] does not exist." in as_filter.message
    assert as_filter.hint == (
        "fromJson is a function, not a filter: write fromJson(value) instead of value | fromJson"
    )
    assert "Function or Macro [toJson] does not exist." in as_function.message
    assert as_function.hint == (
        "toJson is a filter, not a function: write value | toJson instead of toJson(value)"
    )


def test_undeclared_input_is_refused_with_did_you_mean() -> None:
    template = "{{ inputs.nmae }}"
    err = only(flow_text(template, NAME_INPUT))
    assert err.message == (
        "task 'hello', property 'message': Unable to find `inputs.nmae`: the flow declares "
        "no input 'nmae'"
    )
    assert template[err.position or 0 :].startswith("nmae")
    assert err.hint == "did you mean inputs.name? (declared inputs: name)"


def test_undeclared_input_in_a_flow_without_inputs() -> None:
    err = only(flow_text("{{ inputs.user }}"))
    assert err.hint and "declare it under 'inputs:'" in err.hint


@pytest.mark.parametrize(
    "template",
    [
        "{{ inputs.name }} {{ inputs['name'] | upper }}",
        "{{ inputs.cfg.env }} {{ inputs.cfg.region }}",  # dotted ids cfg.env, cfg.region
        "{{ inputs.name.length() }}",
        "{{ inputs.missing ?? 'd' }} {{ inputs.other | default('x') }}",
        "{% if inputs.opt is defined %}{{ inputs.opt }}{% endif %}",  # only the guard is safe
        "{% set inputs = {'a': 1} %}{{ inputs.a }}",
        "{% for inputs in [{'a': 1}] %}{{ inputs.a }}{% endfor %}",
        "{% macro greet(who) %}hi {{ who }}{% endmacro %}{{ greet(inputs.name) }}",
        "{{ 'x' | default(1) }} {{ 1 is defined }} {{ block('b') }}",
    ],
)
def test_no_false_errors(template: str) -> None:
    inputs = NAME_INPUT + (
        "  - id: cfg.env\n    type: STRING\n    required: false\n"
        "  - id: cfg.region\n    type: STRING\n    required: false\n"
    )
    text = flow_text(template, inputs)
    if "inputs.opt }}" in template:
        assert "'opt'" in only(text).message  # the unguarded use is still a mistake
    else:
        parse_flow(text, "flow.yml", check_templates=True)


def test_dotted_input_prefix_that_matches_no_id_is_undeclared() -> None:
    inputs = "  - id: cfg.env\n    type: STRING\n"
    err = only(flow_text("{{ inputs.cfg.envv }}", inputs))
    assert "no input 'cfg.envv'" in err.message
    assert err.hint and "inputs.cfg.env?" in err.hint


def test_every_place_a_template_is_rendered_is_checked() -> None:
    text = (
        "id: f\nnamespace: company.team\n"
        "inputs:\n  - id: a\n    type: STRING\n    defaults: \"{{ 'x' | uppr }}\"\n"
        "tasks:\n"
        "  - id: t\n    type: io.kestra.plugin.core.debug.Return\n"
        '    format: ok\n    runIf: "{{ inputs.b }}"\n'
        'outputs:\n  - id: o\n    type: STRING\n    value: "{{ nope() }}"\n'
    )
    labels = sorted(p.message.split(":")[0] for p in problems(text))
    assert labels == ["flow output 'o'", "input 'a' defaults", "task 't', property 'runIf'"]


def test_run_check_leaves_syntax_errors_to_the_run_but_refuses_names() -> None:
    # a syntax error fails its task at run time, as in Kestra: not refused by the run check
    flow = parse_flow(flow_text("{{ 1 + }}"), "flow.yml")
    assert check_expressions(flow) == []
    flow = parse_flow(flow_text("{{ 'a' | nosuch }}"), "flow.yml")
    with pytest.raises(FlowValidationError) as info:
        check_expressions(flow)
    assert info.value.exit_code == 2
    assert "Filter [nosuch] does not exist." in info.value.message


def test_validate_draws_a_caret_under_the_bad_part(cli, write_flow) -> None:
    path = write_flow(flow_text("Hello {{ inputs.name | uper }}", NAME_INPUT))
    proc = cli("validate", str(path))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert (
        f"error: {path}:10:5: task 'hello', property 'message': Filter [uper] does not exist."
        in lines
    )
    source = next(i for i, line in enumerate(lines) if "Hello {{ inputs.name | uper }}" in line)
    caret = lines[source + 1]
    assert caret.strip() == "^" and caret.index("^") == lines[source].index("uper")
    assert "hint: did you mean upper?" in lines


def test_a_long_template_is_shown_as_a_window_not_repeated_whole(cli, write_flow) -> None:
    template = "x" * 120 + " {{ inputs.nmae }} " + "y" * 120
    path = write_flow(flow_text(template, NAME_INPUT))
    proc = cli("validate", str(path))
    assert proc.returncode == 2
    assert template not in proc.stderr  # the 259 characters are never printed whole
    lines = proc.stderr.splitlines()
    source = next(i for i, line in enumerate(lines) if "{{ inputs.nmae }}" in line)
    assert lines[source].strip().startswith("…") and lines[source].endswith("…")
    assert len(lines[source]) <= 80
    assert lines[source + 1].index("^") == lines[source].index("nmae")


def test_run_refuses_before_any_task_runs(cli, write_flow) -> None:
    text = flow_text("{{ inputs.name | uper }}", NAME_INPUT).replace(
        "tasks:\n",
        "tasks:\n  - id: first\n    type: io.kestra.plugin.core.log.Log\n    message: first\n",
        1,
    )
    path = write_flow(text)
    proc = cli("run", str(path), "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""  # no execution was created
    assert "Filter [uper] does not exist." in proc.stderr and "^" in proc.stderr
    assert "Traceback" not in proc.stderr
    listed = cli("executions", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []


def test_several_problems_each_get_their_caret(cli, write_flow) -> None:
    path = write_flow(flow_text("{{ 'a' | uper }} {{ inputs.nmae }}", NAME_INPUT))
    proc = cli("validate", str(path))
    assert proc.returncode == 2
    assert "the flow is invalid (2 problems)" in proc.stderr
    assert proc.stderr.count("^") == 2


# ------------------------------------------------------------------------- typed inputs


def _spec(id_: str, type_: str, **props: object) -> InputSpec:
    return InputSpec(id=id_, type=type_, required=True, props={"id": id_, "type": type_, **props})


def test_int_input_says_an_integer_is_expected() -> None:
    with pytest.raises(InputError) as info:
        resolve_inputs([_spec("age", "INT")], {"age": "abc"})
    assert info.value.problems == [
        'Invalid input for `age`, For input string: "abc", but received `abc`'
    ]
    assert info.value.hint and "INT input `age`: an integer is expected" in info.value.hint


def test_array_input_shows_the_json_to_write_and_says_received_once() -> None:
    with pytest.raises(InputError) as info:
        resolve_inputs([_spec("tags", "ARRAY", itemType="STRING")], {"tags": "x,y"})
    (problem,) = info.value.problems
    assert problem.startswith(
        "Invalid input for `tags`, Expected `ARRAY` but received `x,y` with errors:"
    )
    assert problem.count("but received") == 1
    assert info.value.hint == 'ARRAY input `tags` takes a JSON array: write ["x", "y"]'
    with pytest.raises(InputError) as info:
        resolve_inputs([_spec("ns", "ARRAY", itemType="INT")], {"ns": "1, 2"})
    assert info.value.hint == "ARRAY input `ns` takes a JSON array: write [1, 2]"


def test_a_validation_rule_gets_no_parse_hint() -> None:
    with pytest.raises(InputError) as info:
        resolve_inputs([_spec("age", "INT", min=18)], {"age": "9"})
    assert info.value.problems == [
        "Invalid input for `age`, it must be more than `18`, but received `9`"
    ]
    assert info.value.hint is None


def test_boolean_values_other_than_true_false_are_warnings() -> None:
    specs = [_spec("flag", "BOOLEAN"), _spec("b", "BOOL"), _spec("s", "STRING")]
    notices = input_notices(specs, {"flag": "yes", "b": "TRUE", "s": "yes"})
    assert [(n.code, n.message) for n in notices] == [
        ("boolean-input", "input `flag` is BOOLEAN and 'yes' is neither true nor false: "
                          "Kestra reads it as false"),
    ]  # fmt: skip
    assert resolve_inputs([specs[0]], {"flag": "yes"}) == {"flag": False}  # never an error


def test_cli_typed_input_messages(cli, write_flow) -> None:
    inputs = "  - id: age\n    type: INT\n  - id: tags\n    type: ARRAY\n    itemType: STRING\n"
    path = write_flow(flow_text("hi", inputs))
    proc = cli("run", str(path), "-i", "age=abc", "-i", "tags=x,y")
    assert proc.returncode == 2
    assert "2 inputs are invalid" in proc.stderr
    assert "an integer is expected" in proc.stderr
    assert 'write ["x", "y"]' in proc.stderr
    assert "but received `x,y` with errors" in proc.stderr
    assert proc.stderr.count("but received `x,y`") == 1


def test_cli_boolean_warning_in_stderr_and_json(cli, write_flow) -> None:
    inputs = "  - id: flag\n    type: BOOLEAN\n"
    path = write_flow(flow_text("{{ inputs.flag }}", inputs))
    proc = cli("run", str(path), "-i", "flag=yes", "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["inputs"] == {"flag": False}
    (warning,) = doc["warnings"]
    assert warning["code"] == "boolean-input" and "reads it as false" in warning["message"]
    assert "warning:" in proc.stderr and "flag=true or flag=false" in proc.stderr


def test_boolean_default_other_than_true_false_is_a_flow_warning() -> None:
    inputs = '  - id: flag\n    type: BOOLEAN\n    defaults: "yes"\n'
    flow = parse_flow(flow_text("hi", inputs), "flow.yml")
    (warning,) = flow.warnings
    assert warning.code == "boolean-input" and warning.line == 6
    assert warning.message == (
        "input 'flag' is BOOLEAN and its defaults 'yes' is neither true nor false: "
        "Kestra reads it as false"
    )
    templated = '  - id: flag\n    type: BOOLEAN\n    defaults: "{{ 1 == 1 }}"\n'
    assert parse_flow(flow_text("hi", templated), "flow.yml").warnings == ()


# -------------------------------------------------------------------- flow output literals


def _with_output(type_: str, value: str) -> str:
    return flow_text("hi") + f"outputs:\n  - id: o\n    type: {type_}\n    value: {value}\n"


@pytest.mark.parametrize(
    ("type_", "value", "needle"),
    [
        ("INT", "abc", 'Invalid output for `o`, For input string: "abc", but received `abc`'),
        ("INT", "3.5", 'For input string: "3.5"'),
        ("JSON", "'{bad'", "Expected `JSON` but received `{bad` with errors"),
        ("DATE", "tomorrow", "Expected `DATE` but received `tomorrow`"),
    ],
)
def test_flow_output_literal_of_the_wrong_type_is_refused(
    type_: str, value: str, needle: str
) -> None:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(_with_output(type_, value), "flow.yml")
    (problem,) = info.value.problems
    assert needle in problem.message
    assert problem.line == 10  # the `value:` line
    assert problem.hint and f"{type_} output `o`" in problem.hint


@pytest.mark.parametrize(
    ("type_", "value"),
    [("INT", "12"), ("INT", "'12'"), ("STRING", "abc"), ("JSON", "{a: 1}"),
     ("INT", "\"{{ outputs.hello.x }}\""), ("FILE", "x.txt"), ("BOOLEAN", "maybe")],
)  # fmt: skip
def test_flow_output_templates_and_good_literals_pass(type_: str, value: str) -> None:
    parse_flow(_with_output(type_, value), "flow.yml")


def test_validate_cli_refuses_an_int_output_literal(cli, write_flow) -> None:
    proc = cli("validate", str(write_flow(_with_output("INT", "abc"))))
    assert proc.returncode == 2
    assert "Invalid output for `o`" in proc.stderr and "an integer is expected" in proc.stderr


# -------------------------------------------------------------------------- unknown types


def _typed_flow(type_: str) -> str:
    return f"id: f\nnamespace: company.team\ntasks:\n  - id: t\n    type: {type_}\n"


def test_unknown_type_suggests_the_existing_class_of_the_same_name() -> None:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(_typed_flow("io.kestra.plugin.core.flow.Fail"), "flow.yml")
    assert (
        info.value.hint and "did you mean io.kestra.plugin.core.execution.Fail?" in info.value.hint
    )


def test_unknown_type_far_from_any_gets_no_suggestion() -> None:
    with pytest.raises(FlowValidationError) as info:
        parse_flow(_typed_flow("io.kestra.plugin.core.flow.Zzyzx"), "flow.yml")
    assert "did you mean" not in (info.value.hint or "")


def test_run_warns_about_an_undeclared_input_then_fails_the_task_as_kestra(cli, write_flow):
    # Kestra runs such a flow and fails the task when it renders (VariablesTest.invalidVars,
    # acceptance cases 114 and 444): the run keeps that result, announced before it starts
    path = write_flow(flow_text("{{ inputs.nmae }}", NAME_INPUT))
    flow = parse_flow(path.read_text(), str(path))
    (notice,) = check_expressions(flow)
    assert notice.code == "undeclared-input-use" and notice.line == 10
    assert notice.hint == "did you mean inputs.name? (declared inputs: name)"
    proc = cli("run", str(path), "--json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)
    assert [w["code"] for w in doc["warnings"]] == ["undeclared-input-use"]
    assert doc["taskRunList"][0]["state"]["current"] == "FAILED"
    assert "warning:" in proc.stderr and "Unable to find `inputs.nmae`" in proc.stderr


@pytest.mark.parametrize(
    ("expression", "hint"),
    [
        ("{{ 'x' | uper }}", "hint: did you mean upper?"),
        ("{{ '{}' | fromJson }}", "hint: fromJson is a function, not a filter"),
        ("{{ toJson(1) }}", "hint: toJson is a filter, not a function"),
        ("{{ 1 is evn }}", "hint: did you mean even?"),
        ("{{ 1 | odd }}", "hint: odd is a test, not a filter: write value is odd"),
        ("{{ 'a' is upper }}", "hint: upper is a filter, not a test: write value | upper"),
    ],
)
def test_eval_unknown_names_get_the_same_hints(cli, expression, hint):
    proc = cli("eval", expression)
    assert proc.returncode == 1  # a rendering error, as in Pebble
    assert hint in proc.stderr and "^" in proc.stderr
