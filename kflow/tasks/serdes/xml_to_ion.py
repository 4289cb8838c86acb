"""``io.kestra.plugin.serdes.xml.XmlToIon``: XML to Ion, as Kestra's org.json ``XML``
reader builds it.

An element becomes a map: its attributes and child elements are keys (a repeated child is
a list), its text is ``content`` (alone, the element is just that value), an empty element
is ``""``. Text and attribute values are typed the org.json way: ``true``/``false``,
``null``, integers, decimals (``44.95`` is a decimal, leading zeros keep a string). Keys
come out in the order of Java's ``HashMap`` (which org.json uses), so the Ion bytes match
Kestra's.

With ``query`` (``/catalog/book``) each matching element is one row, streamed: elements
are built one at a time and dropped once written. Without it the whole document is one
value (held in memory, as in Kestra); ``{root: [...]}`` or ``{root: {child: [...]}}`` is
unwrapped into one row per item.

Parsing uses expat directly (the C parser under ``xml.etree``) so that prefixed names
(``dc:title``) and ``xmlns`` attributes stay as written, as org.json keeps them. Expat
neither fetches external entities nor resolves external DTDs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any
from xml.parsers import expat

from kflow.errors import TaskError
from kflow.tasks.base import Prop, RunContext, SubKey, Task
from kflow.tasks.serdes.common import (
    BLOCK,
    CHARSET,
    FROM,
    OUTPUTS,
    charset,
    finish,
    output_file,
    source,
    stop_if_cancelled,
)

_CONTENT = "content"
_JAVA_SPACE = "".join(chr(c) for c in range(33))  # String.trim() drops chars <= ' '
_BIG_DECIMAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_INT = re.compile(r"-?\d+")


@functools.lru_cache(maxsize=8192)
def java_hash(text: str) -> int:
    """``String.hashCode`` (over UTF-16 code units), as an unsigned 32-bit int."""
    h = 0
    data = text.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(data), 2):
        h = (31 * h + ((data[i] << 8) | data[i + 1])) & 0xFFFFFFFF
    return h


@functools.lru_cache(maxsize=4096)
def hashmap_order(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The iteration order of a ``java.util.HashMap`` filled with ``keys`` in this order:
    by bucket (the spread hash masked by the table size), then insertion order. Cached:
    the rows of a file mostly share their keys."""
    capacity = 16
    while len(keys) > capacity * 0.75:
        capacity *= 2
    mask = capacity - 1

    def bucket(key: str) -> int:
        h = java_hash(key)
        return (h ^ (h >> 16)) & mask

    return tuple(k for _, _, k in sorted((bucket(k), i, k) for i, k in enumerate(keys)))


def string_to_value(text: str) -> Any:
    """org.json ``XML.stringToValue``: booleans, null, numbers, else the string."""
    if text == "":
        return text
    lower = text.lower()
    if lower == "true":
        return True
    if lower == "false":
        return False
    if lower == "null":
        return None
    initial = text[0]
    if not ("0" <= initial <= "9" or initial == "-"):
        return text
    if "." in text or "e" in text or "E" in text or text == "-0":
        if _BIG_DECIMAL.fullmatch(text) is None:
            return text
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        if initial == "-" and number == 0:
            return -0.0
        return number
    if len(text) > 1 and initial == "0" and text[1].isdigit():
        return text  # leading zeros: a string, not an octal number
    if len(text) > 2 and initial == "-" and text[1] == "0" and text[2].isdigit():
        return text
    if _INT.fullmatch(text) is None or not text.isascii():
        return text
    return int(text)


class _Node:
    """An element being built: org.json's JSONObject, keys in insertion order."""

    __slots__ = ("name", "fields", "text", "cdata")

    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[str, Any] = {}
        self.text: list[str] = []
        self.cdata = False

    def accumulate(self, key: str, value: Any, force_list: bool = False) -> None:
        """``JSONObject.accumulate`` (and ``append`` for a forced list)."""
        if key not in self.fields:
            self.fields[key] = _Array([value]) if force_list else value
            return
        existing = self.fields[key]
        if isinstance(existing, _Array):
            existing.append(value)
        else:
            self.fields[key] = _Array([existing, value])


class _Array(list[Any]):
    """A JSONArray made by accumulation (a list value in the file is the same in Ion)."""


def to_plain(value: Any) -> Any:
    """``JSONObject.toMap``/``JSONArray.toList``: maps in HashMap order."""
    if isinstance(value, dict):
        return {k: to_plain(value[k]) for k in hashmap_order(tuple(value))}
    if isinstance(value, list):
        return [to_plain(v) for v in value]
    return value


class _Builder:
    """Builds org.json values from expat events, handing each finished element whose
    path matches to ``emit`` (then forgetting it)."""

    def __init__(
        self, force_list: frozenset[str], target: list[str] | None, emit: Callable[[Any], None]
    ) -> None:
        self.force_list = force_list
        self.target = target  # the query's names, or None for the whole document
        self.emit = emit
        self.root = _Node("")
        self.stack: list[_Node] = [self.root]
        self.path: list[str] = []
        self.capture = 0  # depth at which the element being captured starts (0: none)
        self.matched_parent = False

    # When streaming, only the subtree of a matching element is built; other elements are
    # walked through without keeping anything.
    def _keeping(self) -> bool:
        return self.target is None or self.capture > 0

    def start(self, name: str, attributes: dict[str, str]) -> None:
        if self.target is not None:
            # Kestra re-reads a matching element from StAX local names: prefixes and
            # namespace declarations are dropped
            name = _local(name)
            attributes = {
                _local(k): v
                for k, v in attributes.items()
                if k != "xmlns" and not k.startswith("xmlns:")
            }
        self.path.append(name)
        if self.target is not None and self.capture == 0:
            if self.path == self.target:
                self.capture = len(self.path)
                self.stack = [_Node(""), _Node(name)]
                self._attributes(attributes)
            return
        self._flush_text()
        self.stack.append(_Node(name))
        self._attributes(attributes)

    def _attributes(self, attributes: dict[str, str]) -> None:
        node = self.stack[-1]
        for key, value in attributes.items():
            node.accumulate(key, string_to_value(value))

    def end(self, name: str) -> None:
        del name  # the stack knows which element ends
        depth = len(self.path)
        self.path.pop()
        if not self._keeping_at(depth):
            return
        self._flush_text()
        node = self.stack.pop()
        parent = self.stack[-1]
        forced = node.name in self.force_list
        if not node.fields:
            if forced:
                parent.fields[node.name] = _Array()  # org.json puts a new empty array
            else:
                parent.accumulate(node.name, "")
        elif len(node.fields) == 1 and _CONTENT in node.fields:
            parent.accumulate(node.name, node.fields[_CONTENT], forced)
        else:
            parent.accumulate(node.name, node.fields, forced)
        if self.target is not None and depth == self.capture:
            self.capture = 0
            value = parent.fields.get(node.name)
            self.stack = [self.root]
            if isinstance(value, list):
                for item in value:
                    self.emit(to_plain(item))
            else:
                self.emit(to_plain(value))

    def _keeping_at(self, depth: int) -> bool:
        return self.target is None or (self.capture > 0 and depth >= self.capture)

    def characters(self, data: str) -> None:
        if self._keeping():
            self.stack[-1].text.append(data)

    def start_cdata(self) -> None:
        self._flush_text()
        if self._keeping():
            self.stack[-1].cdata = True

    def end_cdata(self) -> None:
        if not self._keeping():
            return
        node = self.stack[-1]
        text = "".join(node.text)
        node.text = []
        node.cdata = False
        if text:
            node.accumulate(_CONTENT, text)

    def _flush_text(self) -> None:
        if not self._keeping() or len(self.stack) < 2:
            return
        node = self.stack[-1]
        if not node.text or node.cdata:
            return
        text = "".join(node.text).strip(_JAVA_SPACE)
        node.text = []
        if text:
            node.accumulate(_CONTENT, string_to_value(text))


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


def _unwrap(document: dict[str, Any]) -> Any:
    """Kestra's ``unwrapRootArray``: ``{root: [...]}`` or ``{root: {child: [...]}}`` gives
    the list, anything else the document itself."""
    if len(document) != 1:
        return document
    (value,) = document.values()
    if isinstance(value, list):
        return value
    if isinstance(value, dict) and len(value) == 1:
        (inner,) = value.values()
        if isinstance(inner, list):
            return inner
    return document


class XmlToIon(Task):
    """Convert an XML file to Ion (Kestra's storage format)."""

    type = "io.kestra.plugin.serdes.xml.XmlToIon"
    aliases = ("io.kestra.plugin.serdes.xml.XmlReader",)
    outputs = OUTPUTS
    properties = {
        "from": FROM,
        "charset": CHARSET,
        "query": Prop(
            kind="string", doc="Path of the elements to stream as rows, e.g. /catalog/book"
        ),
        "parserConfiguration": Prop(
            kind="map",
            doc="org.json parser options",
            keys={"forceList": SubKey()},
        ),
    }

    def run(self, ctx: RunContext) -> dict[str, Any]:
        from kflow import ion

        uri = source(self, ctx)
        encoding = charset(self, ctx)
        query = self.rendered(ctx, "query")
        config = self.rendered(ctx, "parserConfiguration") or {}
        force = config.get("forceList") if isinstance(config, dict) else None
        if force is not None and not isinstance(force, list):
            raise TaskError("`parserConfiguration.forceList` must be a list of tag names")
        force_list = frozenset(str(x) for x in force or ())
        target = None
        if query is not None:
            target = str(query).strip().lstrip("/").split("/")
            if not target or any(not s for s in target):
                raise TaskError(f"`query` {query!r} is not a path such as /catalog/book")
        path = output_file(ctx, ".ion")
        with ctx.open_file(uri) as fh, path.open("wb") as out:
            if target is not None:
                stream = _stream(fh, uri, encoding, force_list, target, ctx)
                count = ion.write_rows(stream, out)
            else:
                document = _parse_whole(fh, uri, encoding, force_list, ctx)
                result = _unwrap(document)
                rows = result if isinstance(result, list) else [result]
                count = _write_all(rows, out)
        return finish(ctx, path, count)


def _write_all(rows: list[Any], out: IO[bytes]) -> int:
    """Every row (None rows too: Kestra counts them; FileSerde writes ``null``)."""
    from kflow import ion

    for row in rows:
        out.write((ion.dumps(row) + "\n").encode("utf-8"))
    return len(rows)


def _parser(builder: _Builder, encoding: str) -> Any:
    parser = expat.ParserCreate(encoding="UTF-8" if encoding == "utf-8" else None)
    parser.buffer_text = True
    parser.ordered_attributes = False
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.characters
    parser.StartCdataSectionHandler = builder.start_cdata
    parser.EndCdataSectionHandler = builder.end_cdata
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    return parser


def _feed(parser: Any, fh: IO[bytes], uri: str, encoding: str, ctx: RunContext) -> Iterator[None]:
    """Feed the file block by block (decoded first when it is not UTF-8); yields after
    each block so that finished rows can be written."""
    import codecs

    decoder = None if encoding == "utf-8" else codecs.getincrementaldecoder(encoding)()
    try:
        while True:
            stop_if_cancelled(ctx)
            data = fh.read(BLOCK)
            final = not data
            if decoder is not None:
                parser.Parse(decoder.decode(data, final).encode("utf-8"), final)
            else:
                parser.Parse(data, final)
            yield None
            if final:
                return
    except expat.ExpatError as exc:
        raise TaskError(
            f"{uri}: invalid XML at line {exc.lineno}, column {exc.offset + 1}: "
            f"{expat.ErrorString(exc.code)}",
            hint="the source must be a well-formed XML document",
        ) from None
    except UnicodeDecodeError as exc:
        raise TaskError(
            f"{uri}: not {encoding} text ({exc.reason})", hint="set `charset`"
        ) from None


def _stream(
    fh: IO[bytes],
    uri: str,
    encoding: str,
    force_list: frozenset[str],
    target: list[str],
    ctx: RunContext,
) -> Iterator[Any]:
    ready: list[Any] = []
    builder = _Builder(force_list, target, ready.append)
    parser = _parser(builder, encoding)
    if hasattr(fh, "peek") and not fh.peek(1):
        return  # an empty file: no row (Kestra logs and writes nothing)
    for _ in _feed(parser, fh, uri, encoding, ctx):
        yield from ready
        ready.clear()


def _parse_whole(
    fh: IO[bytes], uri: str, encoding: str, force_list: frozenset[str], ctx: RunContext
) -> dict[str, Any]:
    builder = _Builder(force_list, None, lambda value: None)
    if hasattr(fh, "peek") and not fh.peek(1):
        return {}  # org.json reads an empty file as an empty object
    parser = _parser(builder, encoding)
    for _ in _feed(parser, fh, uri, encoding, ctx):
        pass
    plain: dict[str, Any] = to_plain(builder.root.fields)
    return plain
