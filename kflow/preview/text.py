"""Bytes to text for the preview: the encoding of a file, guessed from its head, and
record boundaries found in the bytes without decoding them (skipping to ``--offset`` in
a 1 GB file without reading it into memory)."""

from __future__ import annotations

import codecs
import io
from collections.abc import Iterator
from typing import Any, BinaryIO

SAMPLE = 64 * 1024
_CHUNK = 1 << 20
# a line longer than this is cut in the preview (the rest is skipped, not held in memory)
MAX_LINE = 1_000_000

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(sample: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``sample`` names, or None."""
    for bom, name in _BOMS:
        if sample.startswith(bom):
            return name
    return None


def detect_encoding(sample: bytes) -> str:
    """The encoding of a file from its first bytes: a byte-order mark, then UTF-8 if the
    bytes decode as UTF-8 (a character cut at the end of the sample is allowed), then
    ``charset_normalizer``'s guess when it is installed, else latin-1 (which decodes any
    byte, so a preview never fails on text)."""
    named = bom_encoding(sample)
    if named is not None:
        return named
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data" and exc.start >= len(sample) - 3:
            return "utf-8"
    western = _single_byte_western(sample)
    if western is not None:
        return western
    try:
        import charset_normalizer
    except ImportError:
        return "latin-1"
    best = charset_normalizer.from_bytes(sample).best()
    return best.encoding if best is not None and best.encoding else "latin-1"


def _single_byte_western(sample: bytes) -> str | None:
    """latin-1 (cp1252 when it has bytes 0x80-0x9F) for text whose non-ASCII bytes stand
    alone between ASCII ones (``Sète``, ``Köln``): charset_normalizer takes a short sample
    of it for a CJK encoding, where such bytes come in pairs."""
    high = [i for i, b in enumerate(sample) if b >= 0x80]
    if not high:
        return None
    paired = sum(1 for i in high if i + 1 < len(sample) and sample[i + 1] >= 0x80)
    if paired / len(high) > 0.2:
        return None
    return "cp1252" if any(0x80 <= sample[i] < 0xA0 for i in high) else "latin-1"


def check_encoding(name: str) -> str:
    """``name`` if Python knows the codec; else ``LookupError``."""
    codecs.lookup(name)
    return name


def ascii_compatible(encoding: str) -> bool:
    """Whether newlines and quotes are the same single bytes as in ASCII and never part of
    another character (UTF-8, latin-1, cp1252, Shift_JIS...; not UTF-16/32), so records
    can be found in the raw bytes."""
    try:
        if codecs.lookup(encoding).name == "utf-8-sig":  # its encoder writes a BOM first
            return True
        return '\n"\t,'.encode(encoding) == b'\n"\t,'
    except (LookupError, UnicodeError):
        return False


class _Prefixed(io.RawIOBase):
    """``head`` then the rest of ``fh``: bytes read ahead while skipping, given back."""

    def __init__(self, head: bytes, fh: BinaryIO) -> None:
        self._head = memoryview(head)
        self._fh = fh

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head.nbytes:
            n = min(len(buffer), self._head.nbytes)
            buffer[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._fh.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def prefixed(head: bytes, fh: BinaryIO) -> BinaryIO:
    """A buffered stream reading ``head`` and then ``fh``. Closing it (a text wrapper
    around it being collected) never closes ``fh``, which belongs to the caller."""
    return io.BufferedReader(_Prefixed(head, fh), _CHUNK)


def skip_records(fh: BinaryIO, n: int, quote: bytes | None) -> tuple[int, bytes]:
    """Skip ``n`` records of ``fh``: lines, or with ``quote`` CSV records (a newline
    inside quotes does not end one; a doubled quote is two quotes, so counting them keeps
    the parity right). Reads 1 MB at a time and counts newlines in C where a chunk holds no
    quote. Returns how many records were skipped (fewer at the end of the file) and the
    bytes read past the last one, which the caller reads first (see :func:`prefixed`)."""
    skipped = 0
    inside = False
    last = b""
    while skipped < n:
        buf = fh.read(_CHUNK)
        if not buf:
            # a last record without a final newline
            if last and not last.endswith(b"\n"):
                skipped += 1
            return skipped, b""
        last = buf[-1:]
        if quote is None or (not inside and quote not in buf):
            count = buf.count(b"\n")
            if skipped + count < n:
                skipped += count
                continue
            pos = 0
            for _ in range(n - skipped):
                pos = buf.index(b"\n", pos) + 1
            return n, buf[pos:]
        # the newlines outside quotes, in C: the pieces between quotes alternate outside
        # and inside; the chunk is scanned line by line only if the n-th record ends in it
        pieces = buf.split(quote)
        ends = b"".join(pieces[1::2] if inside else pieces[0::2]).count(b"\n")
        if skipped + ends < n:
            skipped += ends
            if len(pieces) % 2 == 0:  # an odd number of quotes
                inside = not inside
            continue
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            if nl < 0:
                if buf.count(quote, start) % 2:
                    inside = not inside
                break
            if buf.count(quote, start, nl) % 2:
                inside = not inside
            start = nl + 1
            if not inside:
                skipped += 1
                if skipped == n:
                    return n, buf[start:]
    return skipped, b""


def records(lines: Iterator[str], quote: str | None) -> Iterator[str]:
    """Text lines joined into records: a CSV record goes on while a quote is open."""
    if quote is None:
        yield from lines
        return
    parts: list[str] = []
    inside = False
    for line in lines:
        if line.count(quote) % 2:
            inside = not inside
        parts.append(line)
        if not inside:
            yield "".join(parts)
            parts = []
    if parts:
        yield "".join(parts)


def text_lines(stream: io.TextIOBase) -> Iterator[str]:
    """The lines of ``stream`` without their ends; a line longer than :data:`MAX_LINE`
    is cut, saying how much was left out (its rest is read and dropped, not kept)."""
    while True:
        line = stream.readline(MAX_LINE)
        if not line:
            return
        if line.endswith("\n"):
            yield line[:-1].rstrip("\r")
            continue
        if len(line) < MAX_LINE:  # the last line, without a newline
            yield line
            return
        extra = 0
        while True:
            rest = stream.readline(MAX_LINE)
            extra += len(rest.rstrip("\r\n"))
            if not rest or rest.endswith("\n"):
                break
        yield line + f"… (+{extra:,} characters)" if extra else line


def human_size(size: int) -> str:
    """``523 bytes``, ``12.3 kB``, ``1.0 GB`` (decimal units, as file managers show)."""
    if size < 1000:
        return f"{size} byte" + ("" if size == 1 else "s")
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB"):
        value /= 1000
        if value < 999.95 or unit == "TB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")
