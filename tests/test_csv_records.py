"""The definition of a raw CSV record (instacart_lake.csv_records): which lines join, and the
streaming count that ingest keeps, checked against the definition read line by line."""

from __future__ import annotations

import random

import pytest
from csv_record_samples import EVERY_CASE, records_by_definition

from instacart_lake.csv_records import MAX_RECORD_LINES, QuotedRecord, RecordCounter, quoted_records


def count(data: bytes, chunk_size: int) -> int:
    counter = RecordCounter()
    for start in range(0, len(data), chunk_size):
        counter.feed(data[start:start + chunk_size])
    return counter.finish()


def test_a_quote_joins_lines_until_it_closes_and_a_stray_one_joins_nothing():
    odd_lines = [1, 3, 5, 7, 7 + MAX_RECORD_LINES, 30]

    assert list(quoted_records(odd_lines)) == [
        QuotedRecord(3, 5),    # line 1 is the header: its quotes open nothing
        QuotedRecord(7, 7),    # the next odd line is 16 lines on: too far, line 7 is alone
        QuotedRecord(23, 30),  # and records resume after it
    ]


def test_the_last_line_a_record_may_reach_is_fifteen_lines_on():
    assert list(quoted_records([2, 2 + MAX_RECORD_LINES - 1])) == [QuotedRecord(2, 17)]
    assert [r.unterminated for r in quoted_records([2, 2 + MAX_RECORD_LINES])] == [True, True]


@pytest.mark.parametrize(
    ("data", "records"),
    [
        (b"h\n1,a\rb\n2,c\n", [(2, b"1,a\rb"), (3, b"2,c")]),                   # a lone CR is data
        (b"h\r\n1,a\r\n2,b\r\n", [(2, b"1,a"), (3, b"2,b")]),                    # CRLF
        (b"h\n1,a\n2,b", [(2, b"1,a"), (3, b"2,b")]),                             # no last line end
        (b'h\n1,"a\r\nb",2\n3,c\n', [(2, b'1,"a\r\nb",2'), (4, b"3,c")]),         # a quoted line end
        (b'h\n1,"a\n2,b\n', [(2, b'1,"a'), (3, b"2,b")]),                         # unterminated
        (b'h\n1,"a ""b"" c",2\n', [(2, b'1,"a ""b"" c",2')]),                     # escaped quotes
        (b'h\n1,"a\n\n"\n4,d\n', [(2, b'1,"a\n\n"'), (5, b"4,d")]),               # a blank line inside
        (b"h\n", []),
        (b"h", []),
        (b"", []),
    ],
)
def test_records_of_small_files(data, records):
    assert records_by_definition(data) == records
    assert [count(data, size) for size in (1, 2, 3, len(data) or 1)] == [len(records)] * 4


def test_the_file_with_every_case_has_its_records_counted_in_any_chunks():
    assert [count(EVERY_CASE, size) for size in (1, 4, 64, 1 << 20)] == [len(records_by_definition(EVERY_CASE))] * 4
    assert len(records_by_definition(EVERY_CASE)) == 25


def test_the_streaming_count_agrees_with_the_definition_on_random_files_and_chunks():
    rng = random.Random(19)
    alphabet = [b"a", b",", b'"', b"\n", b"\r", b"\r\n", b"a,b"]
    for _ in range(400):
        data = b"h\n" + b"".join(rng.choices(alphabet, weights=[6, 3, 2, 3, 1, 1, 3], k=rng.randrange(120)))
        expected = len(records_by_definition(data))
        for size in (1, 5, 17, 4096):
            assert count(data, size) == expected, (data, size)


def test_a_stray_quote_swallows_at_most_max_record_lines():
    body = b"".join(b"%d,x\n" % n for n in range(3, 3 + 40))
    data = b'h\n2,"x\n' + body + b'43,"y\n'

    assert count(data, 7) == 42  # no quote closes within 16 lines: every line is a record
    assert records_by_definition(data)[0] == (2, b'2,"x')
