"""Text columns of the assessment as codes into their distinct words (markers.analysis.words)."""

import numpy as np
import pandas as pd
import pyarrow as pa

from markers.analysis.words import LONG_TEXT, Words


def test_short_and_long_words_become_the_same_text():
    # short words are taken by Arrow; sentences longer than LONG_TEXT bytes per course are joined
    # into one buffer: either way the column reads word by word, non-ASCII text included
    long = "informativeness unknown (assumed baseline normal: ÜÖ µg/mg " + "x" * LONG_TEXT + ")"
    for words in (["normal", "élevé"], [long, "short"]):
        column = Words(5, "")
        column[np.array([1, 3])] = words[0]
        column[np.array([4])] = words[1]
        text = column.text()
        assert text.dtype == pd.StringDtype(na_value=np.nan)
        assert list(text) == ["", words[0], "", words[0], words[1]]
        assert pa.array(text).type == pa.large_string()


def test_codes_put_by_distinct_word():
    column = Words(4, "none")
    column.put(np.array([0, 2, 3]), np.array([1, 0, 1]), ["a", "b"])
    # rows 0, 2, 3 get words[1], words[0], words[1]: "b", "a", "b"; each word coded once, in first use
    assert column.codes.tolist() == [2, 0, 1, 2] and column.words == ["none", "a", "b"]
    assert column[np.array([3, 1])].tolist() == ["b", "none"]


def test_a_column_of_empty_words_only():
    column = Words(3, "")
    column[np.array([1])] = ""
    text = column.text()
    assert list(text) == ["", "", ""] and text.dtype == pd.StringDtype(na_value=np.nan)
    assert pa.array(text).type == pa.large_string() and pa.array(text).null_count == 0


def test_long_sentences_in_runs_of_adjacent_courses():
    # a registry's patients without therapy dates share one long sentence course after course: the
    # text is joined a run at a time; runs of 3, 2, 1 and 1 courses, then one course alone
    long = "informativeness unknown (assumed baseline normal: first sample, " + "y" * LONG_TEXT + ")"
    other = "not interpreted: neither VMA nor HVA elevated at baseline " + "z" * LONG_TEXT
    column = Words(8, "")
    column[np.array([0, 1, 2, 6])] = long
    column[np.array([3, 4])] = other
    text = column.text()
    assert list(text) == [long, long, long, other, other, "", long, ""]
    offsets = np.frombuffer(pa.array(text).buffers()[1], dtype=np.int64)
    assert offsets.tolist() == np.cumsum([0] + [len(word.encode()) for word in text]).tolist()
    single = Words(1, "")
    single[np.array([0])] = long
    assert list(single.text()) == [long]


def test_long_sentences_joined_run_by_run_or_course_by_course_give_the_same_text():
    # 12 courses in 3 runs of 4 (joined a run at a time) and 12 courses alternating (more runs than
    # half the courses: joined a course at a time); a two-byte letter checks the offsets are bytes
    long = "informativeness unknown (assumed baseline normal: first sample) é" + "y" * LONG_TEXT
    other = "not interpreted: neither VMA nor HVA elevated at baseline " + "z" * LONG_TEXT
    runs, alternating = Words(12, ""), Words(12, "")
    runs[np.arange(4)] = long
    runs[np.arange(4, 8)] = other
    alternating[np.arange(0, 12, 2)] = long
    alternating[np.arange(1, 12, 2)] = other
    assert list(runs.text()) == [long] * 4 + [other] * 4 + [""] * 4
    assert list(alternating.text()) == [long, other] * 6
    for text in (runs.text(), alternating.text()):
        offsets = np.frombuffer(pa.array(text).buffers()[1], dtype=np.int64)
        assert offsets.tolist() == np.cumsum([0] + [len(word.encode()) for word in text]).tolist()


def test_short_words_in_long_runs_and_short_runs_give_the_same_text():
    # 16 courses in 2 runs (a run per 8 courses: joined run by run) and 16 courses in 16 runs (taken by
    # Arrow): the same words either way
    runs, alternating = Words(16, ""), Words(16, "")
    runs[np.arange(10)] = "normal"
    runs[np.arange(10, 16)] = "élevé"
    alternating[np.arange(0, 16, 2)] = "normal"
    alternating[np.arange(1, 16, 2)] = "élevé"
    assert list(runs.text()) == ["normal"] * 10 + ["élevé"] * 6
    assert list(alternating.text()) == ["normal", "élevé"] * 8
    for text in (runs.text(), alternating.text()):
        assert pa.array(text).type == pa.large_string() and text.dtype == pd.StringDtype(na_value=np.nan)


def test_categorical_holds_the_words_as_categories_in_the_order_first_coded():
    # the fill word "none" is overwritten in every course: a category without courses
    column = Words(4, "none")
    column.put(np.array([0, 1, 2, 3]), np.array([1, 0, 1, 1]), ["a", "b"])
    categorical = column.categorical()
    assert list(categorical) == ["b", "a", "b", "b"]
    assert list(categorical.categories) == ["none", "a", "b"]
    assert categorical.categories.dtype == pd.StringDtype(na_value=np.nan)
    assert categorical.value_counts().to_dict() == {"none": 0, "a": 1, "b": 3}
