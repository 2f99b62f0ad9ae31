"""The write-behind thread: every chunk in order, and an error on either side raised to the caller."""

from __future__ import annotations

import io
import os
import threading

import pytest

from markers.write import behind
from markers.write.behind import write_chunks
from markers.write.tables import write_csv_text


def test_every_chunk_in_order_and_the_byte_count():
    handle = io.BytesIO()
    chunks = [b"a,b\r\n", memoryview(b"1,2\r\n"), b"", b"3,4\r\n"]
    assert write_chunks(handle, iter(chunks)) == 15  # 5 + 5 + 0 + 5 bytes
    assert handle.getvalue() == b"a,b\r\n1,2\r\n3,4\r\n"


def test_written_data_synced_each_time_the_threshold_is_passed(tmp_path, monkeypatch):
    # five chunks of 5 bytes, a sync every 8: after 10 bytes (5 + 5) and after 20 (10 more); the
    # last 5 are left to the caller's closing fsync. Each sync sees the bytes before it on the file.
    synced = []
    monkeypatch.setattr(behind, "_sync_data", lambda fd: synced.append((threading.get_ident(), os.fstat(fd).st_size)))
    with open(tmp_path / "out.csv", "wb") as handle:
        assert write_chunks(handle, [b"1,2\r\n"] * 5, sync_every=8) == 25
    assert [size for _, size in synced] == [10, 20]
    assert threading.get_ident() not in {thread for thread, _ in synced}
    synced.clear()
    with open(tmp_path / "plain.csv", "wb") as handle:
        write_chunks(handle, [b"1,2\r\n"] * 5)
    assert synced == []


def test_the_chunks_are_written_by_another_thread():
    writers = set()

    class Recording(io.BytesIO):
        def write(self, data):
            writers.add(threading.get_ident())
            return super().write(data)

    write_chunks(Recording(), [b"x"] * 5)
    assert writers and threading.get_ident() not in writers


def test_a_failing_write_is_raised_and_stops_the_maker():
    made = []

    class Full(io.BytesIO):
        def write(self, data):
            raise OSError(28, "No space left on device")

    def chunks():
        for i in range(1000):
            made.append(i)
            yield b"row\r\n"

    with pytest.raises(OSError, match="No space left"):
        write_chunks(Full(), chunks(), depth=2)
    # the maker stops soon after the writer fails: at most the queue's depth and the chunk in hand
    # beyond the first, not all 1,000
    assert len(made) < 10


def test_an_error_while_making_chunks_is_raised_after_what_came_before_is_written():
    handle = io.BytesIO()

    def chunks():
        yield b"first\r\n"
        raise ValueError("column 'x' changed kind while writing")

    with pytest.raises(ValueError, match="changed kind"):
        write_chunks(handle, chunks())
    assert handle.getvalue() == b"first\r\n"


def test_a_failed_csv_leaves_no_file(tmp_path, monkeypatch):
    import pandas as pd

    import markers.write.tables as tables

    def broken(frame, *, sep, lineterminator):
        def chunks():
            yield b"a\r\n"
            raise ValueError("column 'a' changed kind while writing")
        return chunks()

    monkeypatch.setattr(tables, "csv_chunks", broken)
    target = tmp_path / "out.csv"
    with pytest.raises(ValueError):
        write_csv_text(pd.DataFrame({"a": [1]}), target, sep=",", inputs=())
    assert list(tmp_path.iterdir()) == []
