"""``fromIon()``: Ion text to the Java values Kestra's FileSerde reads.

Expected values follow Kestra's ``FromIonFunctionTest`` (title of a struct, null in, multi
rows with ``allRows``, errors) and its ``IonParser`` (timestamps → Instant / LocalDate /
ZonedDateTime; annotated strings → their java.time class).
"""

from __future__ import annotations

import pytest

from kflow import expr
from kflow.errors import ExpressionError


def render(template: str) -> str:
    return str(expr.render(template, {}))


def test_struct_field_and_null() -> None:
    # FromIonFunctionTest.ionDecodeFunction
    ion = '{date:2024-04-21T23:00:00.000Z, title:"Main_Page",views:109787}'
    assert render("{{ fromIon('" + ion + "').title }}") == "Main_Page"
    assert render("{{ fromIon(null) }}") == ""


def test_first_row_or_all_rows() -> None:
    # FromIonFunctionTest.multiLine: the first value only, unless allRows=true
    rows = " ".join(f'{{id:{i},name:"john"}}' for i in range(10))
    assert render("{{ fromIon('" + rows + "') }}") == '{"id":0,"name":"john"}'
    out = render("{{ fromIon('" + rows + "', allRows=true) }}")
    assert out.startswith('[{"id":0,"name":"john"},{"id":1,')
    assert out.endswith('{"id":9,"name":"john"}]')
    assert render("{{ fromIon('', allRows=true) }}") == "[]"
    assert render("{{ fromIon('') }}") == ""


def test_every_value_kind() -> None:
    ion = (
        "{i:1, big:12345678901, huge:123456789012345678901234, f:1.5e0, d:1.50, s:\"x\", "
        "sym:abc, b:true, n:null, blob:{{aGVsbG8=}}, l:[1,(a b)], st:{k:1}, "
        "utc:2024-04-21T23:00:00.000Z, mid:2024-04-21T00:00:00.000Z, day:2024-04-21T, "
        "off:2024-04-21T10:00:00+02:00, ldt:LocalDateTime::\"2024-01-01T10:00:00\", "
        "lt:LocalTime::\"10:00:00\", ot:OffsetTime::\"10:00:30+01:00\", "
        "inst:Instant::\"2024-01-01T10:00:00.5Z\"}"
    )
    assert render("{{ fromIon('" + ion + "') }}") == (
        '{"i":1,"big":12345678901,"huge":123456789012345678901234,"f":1.5,"d":1.50,'
        '"s":"x","sym":"abc","b":true,"blob":"aGVsbG8=","l":[1,["a","b"]],"st":{"k":1},'
        '"utc":"2024-04-21T23:00:00Z","mid":"2024-04-21","day":"2024-04-21",'
        '"off":"2024-04-21T10:00:00+02:00","ldt":"2024-01-01T10:00:00","lt":"10:00:00",'
        '"ot":"10:00:30+01:00","inst":"2024-01-01T10:00:00.500Z"}'
    )
    classes = {
        "i": "java.lang.Integer",
        "big": "java.lang.Long",
        "huge": "java.math.BigInteger",
        "f": "java.lang.Double",
        "d": "java.math.BigDecimal",
        "utc": "java.time.Instant",
        "mid": "java.time.LocalDate",
        "off": "java.time.ZonedDateTime",
        "ldt": "java.time.LocalDateTime",
        "lt": "java.time.LocalTime",
        "blob": "[B",
    }
    for key, name in classes.items():
        assert render("{{ fromIon('" + ion + "')." + key + " | className }}") == name, key
    # toString (outside a map): ZonedDateTime drops zero seconds, LocalTime too
    assert render("{{ fromIon('" + ion + "').off }}") == "2024-04-21T10:00+02:00"
    assert render("{{ fromIon('" + ion + "').lt }}") == "10:00"


def test_values_work_with_date_filters() -> None:
    ion = "{utc:2024-04-21T23:00:00.000Z, day:2024-04-21T, off:2024-04-21T10:00:00+02:00}"
    assert render("{{ fromIon('" + ion + "').utc | date('yyyy-MM-dd HH:mm') }}") == (
        "2024-04-21 23:00"
    )
    assert render("{{ fromIon('" + ion + "').day | date('yyyy-MM-dd') }}") == "2024-04-21"
    assert render(
        "{{ fromIon('" + ion + "').off | date('HH:mm', timeZone='UTC') }}"
    ) == "08:00"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ fromIon() }}", "'ion'"),
        ("{{ fromIon('{not: ion') }}", "Invalid ion: "),
        ("{{ fromIon(1) }}", "with type string or byte[]"),
    ],
)
def test_errors(template: str, message: str) -> None:
    # FromIonFunctionTest.exception
    with pytest.raises(ExpressionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        render(template)


def test_read_of_a_stored_ion_file(run_yaml) -> None:  # type: ignore[no-untyped-def]
    ex = run_yaml(
        """
        id: fi
        namespace: company.team
        tasks:
          - id: w
            type: io.kestra.plugin.core.storage.Write
            extension: .ion
            content: |
              {id:0,name:"john",at:2024-01-01T10:00:00.000Z}
              {id:1,name:"jane",at:2024-01-02T}
          - id: first
            type: io.kestra.plugin.core.debug.Return
            format: "{{ fromIon(read(outputs.w.uri)).name }}"
          - id: all
            type: io.kestra.plugin.core.debug.Return
            format: "{{ fromIon(read(outputs.w.uri), allRows=true) | jq('.[].at') }}"
        """
    )
    assert ex.state.current.value == "SUCCESS", ex.task_runs
    values = {tr.task_id: tr.outputs.get("value") for tr in ex.task_runs}
    assert values["first"] == "john"
    assert values["all"] == '["2024-01-01T10:00:00Z","2024-01-02"]'
