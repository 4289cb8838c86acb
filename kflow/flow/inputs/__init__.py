"""Flow inputs and flow outputs, typed the way Kestra types them.

Kestra's ``FlowInputOutput`` (``resolveInputs``/``parseType``/``typedOutputs``) and the
``io.kestra.core.models.flows.input.*`` classes decide every rule here: which strings parse,
which Java quirks survive (BOOLEAN never fails, FLOAT is 32-bit, ENUM/SELECT only check
their values when required, DURATION messages start with a capital *It*), and the error
wording (``Invalid input for `x`, <reason>, but received `<raw>```). Values are parsed into
small internal types first (an instant, a date, a duration...), validated, and only then
turned into what an execution stores: JSON-able values, SECRETs encrypted, FILEs uploaded
last so that a refused run leaves no file behind.

Java's ``toString`` of the raw value appears in messages (``[a, b]`` for a list), and the
``java.time`` parse errors are reproduced (``Text 'x' could not be parsed at index 4``) so a
message reads the same under kflow as under Kestra.

The package is split by concern: :mod:`.types` (parsing and validating one value of each
input type), :mod:`.declarations` (load-time checks of declarations) and :mod:`.resolve`
(run-time resolution and flow outputs).
"""

from kflow.flow.inputs.declarations import (
    check_input_ids,
    check_input_spec,
    check_output_spec,
    check_output_value,
)
from kflow.flow.inputs.resolve import (
    input_context,
    input_notices,
    resolve_inputs,
    resolve_outputs,
)
from kflow.flow.inputs.types import INPUT_TYPES, read_as_false

__all__ = [
    "INPUT_TYPES",
    "check_input_ids",
    "check_input_spec",
    "check_output_spec",
    "check_output_value",
    "input_context",
    "input_notices",
    "read_as_false",
    "resolve_inputs",
    "resolve_outputs",
]
