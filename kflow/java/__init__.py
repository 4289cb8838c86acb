"""What Java does, written once: Kestra runs on the JVM, and users see Java's text.

Every part of kflow that must print or read a value the way Kestra does uses these modules,
so a double prints the same in a template, an input message and an Ion file:

=====================  ===========================================================
module                 Java behaviour
=====================  ===========================================================
:mod:`.numbers`        ``Double.toString``, ``Float.toString``, float32 rounding,
                       ``Integer.valueOf``, ``Float.valueOf``
:mod:`.duration`       ``Duration.parse``, ``Duration.toString``; seconds for waits
:mod:`.isotime`        ``Instant``/``LocalDate``/``LocalTime`` strict ISO parsing and
                       printing (typed inputs); ISO dates, times, offsets and
                       month lengths for :mod:`.time` and :mod:`kflow.ion`
:mod:`.time`           ``DateTimeFormatter`` patterns, ``ZoneId``, locales,
                       ``ZonedDateTime`` parsing and arithmetic (Pebble date filters)
:mod:`.regex`          ``java.util.regex`` on Python's ``re``, ``replaceAll``
                       replacement syntax, ``String.split``
:mod:`.strings`        ``String.valueOf``: ``null``, ``[1, 2]``, ``{k=v}`` (Pebble's ``~``,
                       input messages, the Ion mapper)
:mod:`.exceptions`     ``NumberFormatException``, ``DateTimeParseException``
=====================  ===========================================================

The modules are pure Python and import nothing heavy; :mod:`.time` loads zone data, so it
is kept apart from :mod:`.isotime`, which every run with inputs imports. Nothing here knows
about Pebble values or flows: :mod:`kflow.expr` and :mod:`kflow.flow` adapt their own types
(``kflow.expr.filters.to_date`` turns a Pebble ``Long`` into a date). Errors are Java's
exceptions above, except in :mod:`.time`, whose only callers are the Pebble date filters: it
raises :class:`kflow.errors.ExpressionError` with Java's message.
"""

__all__: list[str] = []
