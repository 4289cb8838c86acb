"""Java's exceptions that carry a message Kestra shows to users.

They are ``ValueError``s, not ``KflowError``s: the caller knows where the text came from
(an input, a property, a template) and wraps the message into its own error with that
place, as Kestra wraps the Java exception.
"""

from __future__ import annotations


class IllegalArgumentError(ValueError):
    """``java.lang.IllegalArgumentException`` (a bad ``DecimalFormat`` pattern...)."""


class NumberFormatError(IllegalArgumentError):
    """``java.lang.NumberFormatException``; the message is Java's (``For input string: "x"``)."""


class DateTimeParseError(ValueError):
    """``java.time.format.DateTimeParseException``, with Java's message."""


__all__ = ["DateTimeParseError", "IllegalArgumentError", "NumberFormatError"]
