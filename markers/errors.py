"""The one exception hierarchy of markers.

Only *user* mistakes become a ``MarkersError``: a file that cannot be read, a
column that is missing, a unit or a date order that cannot be determined. The
CLI turns each into one ``Error: ...`` line and exit code 1. Problems with a
single cell or row are *not* exceptions: they are issue records (see
:mod:`markers.ingest.issues`) collected in the validation report.
"""

from __future__ import annotations


class MarkersError(Exception):
    """Base class of every error markers raises for a user's input or options."""


class InputFormatError(MarkersError):
    """A file is unreadable, corrupt, of the wrong type, or laid out in a way markers cannot use."""


class MissingColumnError(InputFormatError):
    """A sheet lacks a column markers needs (patient ID, sample date, result...)."""


class NoMeasurementsError(InputFormatError):
    """No sheet of the input files holds measurements markers can read."""


class UnknownUnitError(MarkersError):
    """A unit could not be determined or is not one markers can convert."""


class AmbiguousDateError(MarkersError):
    """Every date in a column is ambiguous between day-first and month-first."""


class NoReferenceRangeError(MarkersError):
    """A reference set or reference file is missing, unknown or malformed."""


class ConfigError(MarkersError):
    """A configuration file or option value is invalid."""


class UnsafeInputError(InputFormatError):
    """A file looks hostile (ZIP bomb, XML entities, encrypted) and was refused unread."""


class OutputError(MarkersError):
    """An output file cannot be written where asked (e.g. it would overwrite an input)."""
