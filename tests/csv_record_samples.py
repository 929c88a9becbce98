"""The record definition of instacart_lake.csv_records read line by line, as the tests'
reference for ingest's streaming count and job 1's reader; and a file with every case."""

from __future__ import annotations

from instacart_lake.csv_records import MAX_RECORD_LINES, join_lines


def records_by_definition(data: bytes) -> list[tuple[int, bytes]]:
    """(line number, bytes) of each record after the header, following the contract line by line."""
    lines = data.split(b"\n")
    if data.endswith(b"\n") or not data:
        lines.pop()
    is_odd = [line.count(b'"') % 2 == 1 for line in lines]
    records, index = [], 1
    while index < len(lines):
        closing = None
        if is_odd[index]:
            closing = next((j for j in range(index + 1, min(index + MAX_RECORD_LINES, len(lines))) if is_odd[j]), None)
        last = index if closing is None else closing
        records.append((index + 1, join_lines(lines[index:last + 1])))
        index = last + 1
    return records


EVERY_CASE = b"".join([
    b"product_id,product_name,aisle_id,department_id\r\n",
    b"1,Chocolate\rChip Cookies,61,19\r\n",        # 2: a lone CR is data
    b'2,"Two\r\nLines",104,13\r\n',                # 3-4: a quoted CRLF: one record
    b'3,"Three\nlines\nlong",94,7\n',             # 5-7: a quoted LF over three lines
    b'4,"Unterminated,38,1\n',                     # 8: the quote never closes within 16 lines
    b"5,Caf\xe9,5,13\n",                            # 9: invalid UTF-8
    *[b"%d,Plain,1,1\n" % n for n in range(6, 24)],  # 10-27
    b'24,"Late ""closing"" quote\n25,x,1,1\n",1,1\n',  # 28-30: escaped quotes inside, closed at 30
    b"26,Last,1,1",                                 # 31: no line end
])
