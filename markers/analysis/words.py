"""A text column of the assessment kept as codes into its distinct words until the table is built."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

__all__ = ["Words", "coded_text"]


#: Bytes per course above which a column's text is joined in one buffer rather than taken by Arrow.
LONG_TEXT = 100
#: Courses per run of equal words from which short words too are joined a run at a time.
RUNS_PER_COURSE = 8


class Words:
    """A text column as one code per course into its distinct words.

    A word is one Python str however many courses carry it, and the column becomes the table's
    text by an Arrow take of the codes: no str per course, and no hashing of one per course as
    factorizing an object array of long sentences would need.
    """

    def __init__(self, size: int, fill: str) -> None:
        # 32-bit codes: a column's distinct words (sentences with dates included) stay far below
        # 2**31, and the 18 text columns of 100,000 courses hold 7 MB less than with 64-bit ones
        self.codes = np.zeros(size, dtype=np.int32)
        self.words: list[str] = [fill]
        self._code = {fill: 0}

    def code_of(self, words: list[str] | np.ndarray) -> np.ndarray:
        """The code of each of ``words`` (a new word gets the next one)."""
        codes = []
        for word in words:
            code = self._code.get(word)
            if code is None:
                code = self._code[word] = len(self.words)
                self.words.append(word)
            codes.append(code)
        return np.array(codes, dtype=np.int64)

    def __setitem__(self, where: np.ndarray, words: str | list[str] | np.ndarray) -> None:
        """``column[where] = word`` (every course in ``where``) or ``= words`` (one per course)."""
        self.codes[where] = self.code_of([words])[0] if isinstance(words, str) else self.code_of(words)

    def put(self, where: np.ndarray, codes: np.ndarray, words: list[str] | np.ndarray) -> None:
        """``column[where] = words[codes]``, each of ``words`` looked up once."""
        self.codes[where] = self.code_of(words)[codes]

    def __getitem__(self, where: np.ndarray) -> np.ndarray:
        """The words of the courses in ``where`` (an object array of shared strs)."""
        return np.array(self.words, dtype=object)[self.codes[where]]

    def text(self) -> pd.api.extensions.ExtensionArray:
        """The column as the table's text type."""
        encoded = [word.encode() for word in self.words]
        lengths = np.array([len(octets) for octets in encoded], dtype=np.int64)
        offsets = np.zeros(len(self.codes) + 1, dtype=np.int64)
        if not lengths.any():  # every course empty (a finding no course reached): no text to take
            return pd.array(pa.LargeStringArray.from_buffers(len(self.codes), pa.py_buffer(offsets), pa.py_buffer(b"")),
                            dtype="str")
        np.cumsum(lengths[self.codes], out=offsets[1:])
        first = np.flatnonzero(np.r_[True, self.codes[1:] != self.codes[:-1]])
        if offsets[-1] <= LONG_TEXT * len(self.codes) and len(first) * RUNS_PER_COURSE > len(self.codes):
            table = pa.array(self.words, type=pa.large_string())
            return pd.array(table.take(pa.array(self.codes)), dtype="str")
        # long sentences (the summary), or words in long runs: their bytes joined into one buffer of
        # the exact size, a run of equal codes at a time (one ``bytes * count`` per run: adjacent
        # courses, a patient's analytes or a registry's patients without therapy dates, share their
        # words). Arrow's take grows its buffer by doubling, faulting in about 2.5 times the text's
        # pages (100,000 summaries: 20 ms instead of 8).
        if 2 * len(first) > len(self.codes):  # runs of one or two courses: a word per course, no counting
            data = b"".join(map(encoded.__getitem__, self.codes.tolist()))
        else:
            counts = np.diff(np.r_[first, len(self.codes)])
            data = b"".join([encoded[code] * count for code, count in zip(self.codes[first].tolist(), counts.tolist(),
                                                                           strict=True)])
        text = pa.LargeStringArray.from_buffers(len(self.codes), pa.py_buffer(offsets), pa.py_buffer(data))
        return pd.array(text, dtype="str")

    def categorical(self) -> pd.Categorical:
        """The column as a Categorical of its words (in the order they were first coded): the codes as
        they are, no text per course. A word every course lost to a later one (a fill word, say) stays
        a category without courses, as after filtering a Categorical (``remove_unused_categories()``)."""
        # the codes index the words by construction: no check of each course's code
        return pd.Categorical.from_codes(self.codes, dtype=pd.CategoricalDtype(pd.Index(pd.array(self.words, dtype="str"))),
                                         validate=False)


def coded_text(codes: np.ndarray, words: pd.Index) -> pd.api.extensions.ExtensionArray:
    """``words[codes]`` as the table's text type (a code of -1: missing), by an Arrow take."""
    table = pa.array(words.array, type=pa.large_string())
    return pd.array(table.take(pa.array(codes, mask=codes < 0)), dtype="str")
