"""Kestra's expression functions (``now()``, ``fromJson()``, ``read()``…) under their names.

Sources: Pebble 3.2.2 ``P:extension/core/{Range,Max,Min}Function.java`` and Kestra
``K:runners/pebble/functions/*.java`` (baseline 58c1ca2, plus the newer ``fileExists``,
``isFileEmpty``, ``ksuid``, ``nanoId``, ``randomPort``, ``kv(errorOnMissing=true)``).

A function is ``FUNCTIONS[name](*args, **kwargs)`` with Kestra's argument names. Functions
that read the render context carry ``needs_context = True`` and get the context mapping
first. Functions that need a running execution (files, secrets, KV, logs) reach it through
``context["_kflow"]`` (:mod:`kflow.expr.services`); ``render``/``renderOnce``/``block`` live
in the engine.
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import random
import re
import socket
import time
import uuid as _uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from kflow.errors import ExpressionError, KflowError
from kflow.expr.filters import read_json, slug
from kflow.expr.services import SERVICES_KEY, services_of
from kflow.expr.values import (
    BigInteger,
    Long,
    TemplateList,
    hash_map,
    is_java_long,
    is_number,
    java_class_name,
    java_to_string,
)

if TYPE_CHECKING:
    import yaml as _yaml

# PyYAML, the flow loader and java.time (zone data) are imported by the functions that use
# them, on their first call: the environment imports this module to build its function
# table on every render, and ``{{ 1 + 1 }}`` needs none of them.

FUNCTIONS: dict[str, Callable[..., Any]] = {}
"""Kestra function name → ``f(*args, **kwargs)`` (``needs_context`` ones get the context)."""

_F = TypeVar("_F", bound=Callable[..., Any])


def _function(name: str, needs_context: bool = False) -> Callable[[_F], _F]:
    """Register under ``name``; a wrong argument list becomes an ``ExpressionError``."""
    from kflow.expr.filters import _register

    return _register(FUNCTIONS, "function", name, needs_context)


# ---------------------------------------------------------------------------------------------
# Pebble core functions


def _as_double(value: Any) -> float:
    if not is_number(value):
        raise ExpressionError("invalid operands for mathematical comparison")
    return float(value)


@_function("max")
def max_(*args: Any) -> Any:
    """The largest argument (compared as numbers, like Pebble's ``>``); null is skipped."""
    best: Any = None
    for candidate in args:
        if best is None:
            best = candidate
        elif candidate is not None and _as_double(candidate) > _as_double(best):
            best = candidate
    return best


@_function("min")
def min_(*args: Any) -> Any:
    """The smallest argument (compared as numbers); null is skipped."""
    best: Any = None
    for candidate in args:
        if best is None:
            best = candidate
        elif candidate is not None and _as_double(candidate) < _as_double(best):
            best = candidate
    return best


@_function("range")
def range_(start: Any = None, end: Any = None, increment: Any = None) -> TemplateList:
    """``range(1, 3)`` → ``[1, 2, 3]`` (end included); one-letter strings give letters."""
    step_value = Long(1) if increment is None else increment
    if not is_number(step_value):
        raise ExpressionError(f"The increment of the range function must be a number {step_value}")
    step = int(step_value)
    if step == 0:
        raise ExpressionError("The increment of the range function must be different than 0")
    if is_number(start) and is_number(end):
        first, last = int(start), int(end)
        stop = last + (1 if step > 0 else -1)
        return TemplateList(Long(i) for i in range(first, stop, step))
    if isinstance(start, str) and isinstance(end, str) and len(start) == 1 and len(end) == 1:
        first, last = ord(start), ord(end)
        stop = last + (1 if step > 0 else -1)
        return TemplateList(chr(i) for i in range(first, stop, step))
    raise ExpressionError(
        "Arguments of range function must be of type Number or String with a length of 1"
    )


# ---------------------------------------------------------------------------------------------
# dates


@_function("now")
def now(
    format: Any = "iso",  # noqa: A002
    timeZone: Any = None,  # noqa: N803
    existingFormat: Any = None,  # noqa: N803
    locale: Any = None,
) -> str:
    """The current time formatted like the ``date`` filter (UTC unless ``timeZone``)."""
    from kflow.java import time as java_time

    del existingFormat  # accepted for Kestra's argument order; nothing to parse
    zone = java_time.zone_of(timeZone)
    return java_time.format_date(
        java_time.now(zone), "iso" if format is None else format, java_time.locale_of(locale)
    )


# ---------------------------------------------------------------------------------------------
# JSON and YAML


@_function("fromJson")
def from_json(json: Any = inspect.Parameter.empty) -> Any:
    """Parse a JSON String (first value; null gives null)."""
    return _from_json(json, "fromJson")


@_function("json")
def json_(json: Any = inspect.Parameter.empty) -> Any:
    """Deprecated alias of ``fromJson``."""
    return _from_json(json, "fromJson")


def _from_json(value: Any, name: str) -> Any:
    if value is inspect.Parameter.empty:
        raise ExpressionError(f"The '{name}' function expects an argument 'json'.")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ExpressionError(f"The '{name}' function expects an argument 'json' with type string.")
    try:
        return read_json(value)
    except ExpressionError as e:
        raise ExpressionError(f"Invalid json: {e.message}") from None


@_function("fromIon")
def from_ion(ion: Any = inspect.Parameter.empty, allRows: Any = False) -> Any:  # noqa: N803
    """Parse Ion text (``read()`` of a stored Ion file): the first value, or every value as
    a list with ``allRows=true``; null gives null. Values are Java's, as Kestra's FileSerde
    reads them (:mod:`kflow.expr.ionvalues`)."""
    if ion is inspect.Parameter.empty:
        raise ExpressionError("The 'fromIon' function expects an argument 'ion'.")
    if ion is None:
        return None
    if isinstance(ion, bytes | bytearray):
        ion = bytes(ion).decode("utf-8", errors="replace")
    if not isinstance(ion, str):
        raise ExpressionError(
            "The 'fromIon' function expects an argument 'ion' with type string or byte[]."
        )
    if allRows is not None and not isinstance(allRows, bool):
        raise ExpressionError(
            f"class {java_class_name(allRows)} cannot be cast to class java.lang.Boolean"
        )
    import io

    from kflow import ion as ion_text
    from kflow.expr.ionvalues import to_expression

    try:
        rows = ion_text.read_rows(io.StringIO(ion), limit=None if allRows else 1)
        values = [to_expression(v) for v in rows]
    except (ion_text.IonError, ValueError) as e:
        raise ExpressionError(f"Invalid ion: {e}") from None
    if allRows:
        return values
    return values[0] if values else None


@functools.cache
def _yaml_loader() -> type[_yaml.SafeLoader]:
    """The loader class, built on the first ``yaml()`` call (PyYAML is not imported before)."""
    import yaml as _yaml

    from kflow.flow.yamlio import BoundedSafeLoader

    class _JacksonYamlLoader(BoundedSafeLoader):
        """PyYAML reading YAML the way Kestra's Jackson YAML mapper types scalars.

        Dates stay Strings, ``1e3`` is a Double, ``1:30`` a String, keys are always Strings.
        """

    _JacksonYamlLoader.yaml_implicit_resolvers = {
        k: [
            (tag, rx)
            for tag, rx in v
            if tag
            not in (
                "tag:yaml.org,2002:timestamp",
                "tag:yaml.org,2002:float",
                "tag:yaml.org,2002:int",
            )
        ]
        for k, v in _yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _JacksonYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(
            r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"
        ),
        list("-+0123456789"),
    )
    _JacksonYamlLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
            r"|\.[0-9_]+(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
        ),
        list("-+0123456789."),
    )
    _JacksonYamlLoader.add_constructor("tag:yaml.org,2002:binary", _yaml_text)  # Jackson: text
    _JacksonYamlLoader.add_constructor("tag:yaml.org,2002:float", _yaml_float)
    _JacksonYamlLoader.add_constructor("tag:yaml.org,2002:int", _yaml_int)
    _JacksonYamlLoader.add_constructor("tag:yaml.org,2002:map", _yaml_mapping)
    return _JacksonYamlLoader


def __getattr__(name: str) -> Any:
    # ``_JacksonYamlLoader`` stays importable by name without importing PyYAML up front.
    if name == "_JacksonYamlLoader":
        return _yaml_loader()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _yaml_float(loader: _yaml.SafeLoader, node: _yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node))
    if "inf" in text.lower() or "nan" in text.lower():
        raise ExpressionError(f"Invalid yaml: Malformed numeric value '{text}'")
    return float(text.replace("_", ""))


def _yaml_int(loader: _yaml.SafeLoader, node: _yaml.ScalarNode) -> Any:
    import yaml as _yaml

    value = _yaml.SafeLoader.construct_yaml_int(loader, node)
    if -(2**63) <= value < 2**63:
        return value
    return BigInteger(value)


def _yaml_mapping(loader: _yaml.SafeLoader, node: _yaml.Node) -> Any:
    import yaml as _yaml

    assert isinstance(node, _yaml.MappingNode)
    loader.flatten_mapping(node)
    result: dict[str, Any] = {}
    yield result
    for key_node, value_node in node.value:
        if not isinstance(key_node, _yaml.ScalarNode):
            raise ExpressionError(
                "Invalid yaml: Expected a field name (Scalar value in YAML), got this instead: "
                f"{key_node.id}"
            )
        result[str(key_node.value)] = loader.construct_object(value_node, deep=True)


def _yaml_text(loader: _yaml.SafeLoader, node: _yaml.ScalarNode) -> Any:
    return str(loader.construct_scalar(node))


def parse_yaml(text: str) -> Any:
    """Read the first YAML document as Kestra's ``yaml()`` function does."""
    import yaml as _yaml

    from kflow.flow.loader import TOO_DEEP, too_long_number

    loader = _yaml_loader()(text)
    try:
        if not loader.check_node():
            raise ExpressionError("Invalid yaml: No content to map due to end-of-input")
        node = loader.get_node()
        if node is None:
            raise ExpressionError("Invalid yaml: No content to map due to end-of-input")
        return loader.construct_document(node)
    except _yaml.YAMLError as e:
        raise ExpressionError(f"Invalid yaml: {e}") from None
    except RecursionError:
        raise ExpressionError(f"Invalid yaml: {TOO_DEEP}") from None
    except ValueError as e:  # int(): more than 4,300 digits
        raise ExpressionError(f"Invalid yaml: {too_long_number(e)}") from None
    finally:
        loader.dispose()


@_function("yaml")
def yaml_(yaml: Any = inspect.Parameter.empty) -> Any:
    """Parse a YAML String into maps, lists and scalars."""
    if yaml is inspect.Parameter.empty:
        raise ExpressionError("The 'yaml' function expects an argument 'yaml'.")
    if not isinstance(yaml, str):
        raise ExpressionError("The 'yaml' function expects an argument 'yaml' with type string.")
    return parse_yaml(yaml)


# ---------------------------------------------------------------------------------------------
# context


@_function("currentEachOutput", needs_context=True)
def current_each_output(context: Mapping[str, Any], outputs: Any = inspect.Parameter.empty) -> Any:
    """The current iteration's entry of a ForEach task's outputs.

    Walks ``parents`` from the outermost to the innermost taking ``[taskrun.value]`` at each
    level that has one, then the current ``taskrun.value``.
    """
    if outputs is inspect.Parameter.empty:
        raise ExpressionError("The 'currentEachOutput' function expects an argument 'outputs'.")
    if not isinstance(outputs, Mapping):
        raise ExpressionError(
            "The 'currentEachOutput' function expects an argument 'outputs' with type map."
        )
    current: Any = outputs
    parents = context.get("parents") or []
    for parent in reversed(list(parents)):
        taskrun = parent.get("taskrun") if isinstance(parent, Mapping) else None
        if isinstance(taskrun, Mapping):
            current = _each_get(current, taskrun.get("value"))
    taskrun = context.get("taskrun")
    if not isinstance(taskrun, Mapping):
        raise ExpressionError("currentEachOutput() needs a taskrun: it only works inside ForEach")
    return _each_get(current, taskrun.get("value"))


def _each_get(outputs: Any, key: Any) -> Any:
    if outputs is None:
        raise ExpressionError('Cannot invoke "java.util.Map.get(Object)" because "outputs" is null')
    if not isinstance(outputs, Mapping):
        raise ExpressionError(
            f"class {java_class_name(outputs)} cannot be cast to class java.util.Map"
        )
    return outputs.get(key)


@_function("printContext", needs_context=True)
def print_context(context: Mapping[str, Any]) -> Any:
    """Every variable of the render context, as a ``HashMap``."""
    # collected into a `new HashMap<>()` (capacity 16), which decides the printing order
    return hash_map(((k, context[k]) for k in context if k != SERVICES_KEY), 12)


FUNCTIONS["fetchContext"] = FUNCTIONS["printContext"]


# ---------------------------------------------------------------------------------------------
# identifiers and randomness

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _base62(number: int) -> str:
    out = ""
    while number > 0:
        number, digit = divmod(number, 62)
        out = _BASE62[digit] + out
    return out or "0"


@_function("uuid")
def uuid() -> str:
    """A time-ordered UUID v7, as newer Kestra returns (0.x returned a random v4)."""
    millis = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 62) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(_uuid.UUID(int=value))


@_function("id")
def id_() -> str:
    """A short id: a random UUID in base62 (Kestra ``IdUtils.create``/FriendlyId)."""
    return _base62(_uuid.uuid4().int)


@_function("ksuid")
def ksuid() -> str:
    """A K-Sortable Unique IDentifier: 4-byte timestamp + 16 random bytes, base62, 27 chars."""
    stamp = int(time.time()) - 1_400_000_000
    payload = stamp.to_bytes(4, "big") + os.urandom(16)
    return _base62(int.from_bytes(payload, "big")).rjust(27, "0")


_NANOID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_"


@_function("nanoId")
def nano_id(length: Any = None, alphabet: Any = None) -> str:
    """A NanoID (default 21 chars); ``length`` must be a literal (Long) ≤ 1000."""
    size = 21
    if is_java_long(length):
        size = int(length)
        if size > 1000:
            raise ExpressionError("The 'nanoId()' function field 'length' must be lower than: 1000")
        if size < 0:
            raise ExpressionError(f"NegativeArraySizeException: {size}")
    chars = alphabet if isinstance(alphabet, str) and alphabet else _NANOID_ALPHABET
    mask = len(chars) - 1  # Kestra masks the random byte: only some letters of odd alphabets
    return "".join(chars[b & mask] for b in os.urandom(size)) if mask >= 0 else ""


@_function("randomInt")
def random_int(lower: Any = inspect.Parameter.empty, upper: Any = inspect.Parameter.empty) -> int:
    """A random integer in ``[lower, upper)``; both bounds must be literals (Longs)."""
    bounds = []
    for name, value in (("lower", lower), ("upper", upper)):
        if value is inspect.Parameter.empty:
            raise ExpressionError(f"The 'randomIn()' function expects an argument {name}")
        if not is_java_long(value):
            raise ExpressionError(
                f"The 'randomIn()' function expects an argument {name} of type Long."
            )
        bounds.append(int(value))
    low, high = bounds
    if high < low:
        raise ExpressionError("In 'randomIn()' upper is less than lower")
    return int(math.floor(random.random() * (high - low)) + low)


@_function("randomPort")
def random_port() -> int:
    """A free TCP port on this machine (bind to port 0, read it, close)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("", 0))
            return int(sock.getsockname()[1])
    except OSError as e:
        raise ExpressionError(f"Unable to get random port: {e}") from None


# ---------------------------------------------------------------------------------------------
# execution services: files, secrets, KV, logs

_KESTRA_SCHEME = "kestra:///"
_NSFILE_SCHEME = "nsfile://"


def _flow_namespace(context: Mapping[str, Any], services: Any = None) -> str:
    flow = context.get("flow")
    if isinstance(flow, Mapping) and isinstance(flow.get("namespace"), str):
        return str(flow["namespace"])
    if services is not None:
        return str(services.namespace)
    raise ExpressionError("fileURI() needs the flow's namespace (flow.namespace)")


def namespace_file_uri(namespace: str, path: str) -> str:
    """``kestra:///company/team/_files/path`` for a namespace file."""
    return f"{_KESTRA_SCHEME}{namespace.replace('.', '/')}/_files/{path}"


def _file_uri(context: Mapping[str, Any], path: Any, namespace: Any, function: str) -> str:
    """The ``kestra:///`` URI a file function reads: as given, or a namespace file."""
    if isinstance(path, str) and path.startswith(_KESTRA_SCHEME):
        return path
    if not isinstance(path, str):
        raise ExpressionError(f"Unable to read the file {java_to_string(path)}")
    services = services_of(context, function)
    if path.startswith(_NSFILE_SCHEME):
        # Kestra 1.x: nsfile:///path (the flow's namespace) or nsfile://<namespace>/path
        authority, _, path = path[len(_NSFILE_SCHEME) :].partition("/")
        if authority and isinstance(namespace, str):
            raise ExpressionError(
                "You cannot set a namespace both as the function argument and inside the URI"
            )
        namespace = authority or namespace
    ns = namespace if isinstance(namespace, str) else _flow_namespace(context, services)
    from kflow.storage.namespace import normalize

    try:
        relative = normalize(path)
    except KflowError as e:
        raise ExpressionError(f"{function}(): {e.message}", hint=e.hint) from None
    return namespace_file_uri(ns, relative[1:])


def _service_call(function: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except ExpressionError:
        raise
    except KflowError as e:
        raise ExpressionError(f"{function}(): {e.message}", hint=e.hint) from None
    except (OSError, ValueError) as e:
        raise ExpressionError(f"{function}(): {e}") from None


def _path_arg(path: Any, message: str) -> Any:
    if path is inspect.Parameter.empty:
        raise ExpressionError(message)
    return path


@_function("read", needs_context=True)
def read(
    context: Mapping[str, Any], path: Any = inspect.Parameter.empty, namespace: Any = None
) -> str:
    """Text of a ``kestra:///`` file of this execution, or of a namespace file (UTF-8)."""
    path = _path_arg(
        path,
        "The 'read' function expects an argument 'path' that is a "
        "path to a namespace file or an internal storage URI.",
    )
    uri = _file_uri(context, path, namespace, "read")
    services = services_of(context, "read")
    data = _service_call("read", lambda: services.read_file(uri))
    return bytes(data).decode("utf-8", errors="replace")


@_function("fileURI", needs_context=True)
def file_uri(context: Mapping[str, Any], path: Any = inspect.Parameter.empty) -> str:
    """The ``kestra:///`` URI of a namespace file of this flow (``fileURI('data.csv')``)."""
    path = _path_arg(
        path,
        "The 'fileURI' function expects an argument 'path' that is a path to a namespace file.",
    )
    if not isinstance(path, str):
        raise ExpressionError(
            f"class {java_class_name(path)} cannot be cast to class java.lang.String"
        )
    path = path.removeprefix("/")
    if "../" in path:
        raise ExpressionError("Path must not contain '../'")
    return namespace_file_uri(_flow_namespace(context, context.get("_kflow")), path)


@_function("fileSize", needs_context=True)
def file_size(
    context: Mapping[str, Any], path: Any = inspect.Parameter.empty, namespace: Any = None
) -> Long:
    """Size in bytes of a ``kestra:///`` file."""
    path = _path_arg(
        path,
        "The 'fileSize' function expects an argument 'path' "
        "that is a path to the internal storage URI.",
    )
    uri = _file_uri(context, path, namespace, "fileSize")
    services = services_of(context, "fileSize")
    return Long(_service_call("fileSize", lambda: services.file_size(uri)))


@_function("fileExists", needs_context=True)
def file_exists(
    context: Mapping[str, Any], path: Any = inspect.Parameter.empty, namespace: Any = None
) -> bool:
    """Whether a ``kestra:///`` file or namespace file exists."""
    path = _path_arg(
        path,
        "The 'fileExists' function expects an argument 'path' "
        "that is a path to the internal storage URI.",
    )
    uri = _file_uri(context, path, namespace, "fileExists")
    services = services_of(context, "fileExists")
    return bool(_service_call("fileExists", lambda: services.file_exists(uri)))


@_function("isFileEmpty", needs_context=True)
def is_file_empty(
    context: Mapping[str, Any], path: Any = inspect.Parameter.empty, namespace: Any = None
) -> bool:
    """Whether a ``kestra:///`` file has no content."""
    path = _path_arg(
        path,
        "The 'isFileEmpty' function expects an argument "
        "'path' that is a path to a namespace file or an internal storage URI.",
    )
    uri = _file_uri(context, path, namespace, "isFileEmpty")
    services = services_of(context, "isFileEmpty")
    return int(_service_call("isFileEmpty", lambda: services.file_size(uri))) == 0


@_function("secret", needs_context=True)
def secret(
    context: Mapping[str, Any],
    key: Any = inspect.Parameter.empty,
    namespace: Any = None,
    subkey: Any = None,
) -> str:
    """A secret's value; ``subkey`` picks a field of a JSON secret.

    ``namespace`` is accepted but not used: like Kestra OSS (environment-variable secrets),
    kflow's secrets are not namespaced.
    """
    del namespace
    if key is inspect.Parameter.empty:
        raise ExpressionError("The 'secret' function expects an argument 'key'.")
    if not isinstance(key, str):
        raise ExpressionError(
            f"class {java_class_name(key)} cannot be cast to class java.lang.String"
        )
    services = services_of(context, "secret")
    value = str(_service_call("secret", lambda: services.secret(key)))
    if subkey:
        try:
            parsed = read_json(value)
        except ExpressionError:
            raise ExpressionError(
                f"Failed to read secret sub-key '{subkey}' from secret '{key}'. "
                "Ensure the secret contains valid JSON value."
            ) from None
        if not isinstance(parsed, Mapping) or subkey not in parsed:
            raise ExpressionError(f"Cannot find secret sub-key '{subkey}' in secret '{key}'.")
        item = parsed[subkey]
        if isinstance(item, Mapping | list):
            from kflow.expr.values import to_json

            picked = to_json(item)
        else:
            picked = "null" if item is None else java_to_string(item)
        # the whole secret is already masked; the picked field is a secret of its own
        used = getattr(services, "used_secret", None)
        if callable(used) and item is not None:
            used(picked)
        return picked
    return value


@_function("kv", needs_context=True)
def kv(
    context: Mapping[str, Any],
    key: Any = inspect.Parameter.empty,
    namespace: Any = None,
    errorOnMissing: Any = None,  # noqa: N803
) -> Any:
    """A KV store value; without ``namespace`` parent namespaces are searched too.

    A missing key is an error unless ``errorOnMissing=false`` (then null), as in Kestra ≥ 0.22.
    """
    if key is inspect.Parameter.empty:
        raise ExpressionError("The 'kv' function expects an argument 'key'.")
    if not isinstance(key, str):
        raise ExpressionError(
            f"class {java_class_name(key)} cannot be cast to class java.lang.String"
        )
    if errorOnMissing is not None and not isinstance(errorOnMissing, bool):
        raise ExpressionError(
            f"class {java_class_name(errorOnMissing)} cannot be cast to class java.lang.Boolean"
        )
    error_on_missing = True if errorOnMissing is None else errorOnMissing
    services = services_of(context, "kv")
    flow_ns = _flow_namespace(context, services)
    if namespace is not None:
        candidates = [str(namespace)]
    else:
        parts = flow_ns.split(".")
        candidates = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
    for ns in candidates:
        try:
            return _service_call("kv", functools.partial(services.kv, key, ns))
        except KeyError:
            continue
        except ExpressionError as exc:
            # an expired entry ends the search: Kestra's error, or null without errorOnMissing
            if exc.message != "kv(): The requested value has expired" or error_on_missing:
                raise
            return None
    if error_on_missing:
        shown = namespace if namespace is not None else flow_ns
        raise ExpressionError(f"The key '{key}' does not exist in the namespace '{shown}'.")
    return None


@_function("errorLogs", needs_context=True)
def error_logs(context: Mapping[str, Any]) -> list[Any]:
    """The execution's ERROR logs (what failed so far), oldest first."""
    services = services_of(context, "errorLogs")
    return list(_service_call("errorLogs", services.error_logs))


# storage path helper shared with the runner's services
def execution_prefix(namespace: str, flow_id: str, execution_id: str) -> str:
    """``kestra:///ns/as/path/flow-slug/executions/<id>/``: what ``read()`` may read."""
    ns_path = namespace.replace(".", "/")
    return f"{_KESTRA_SCHEME}{ns_path}/{slug(flow_id)}/executions/{execution_id}/"


__all__ = ["FUNCTIONS", "execution_prefix", "namespace_file_uri", "parse_yaml"]
