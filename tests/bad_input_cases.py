"""The bad-input corpus of issue 19, as data: a tiny valid dataset of the six Instacart files,
and cases that each change it (as bytes, so that encodings and line ends are exact), with
the outcome they must have.

A case either replaces or adds whole files (`files`), or appends lines to files of the base
dataset (`appended`). Expected line numbers are those of the case alone: the base dataset
with this case's change (line 1 is the header; `AISLES_NEXT` is the first line appended to
aisles.csv). Appended lines use ids of their own, so that cases that append can share one
ingest and job 1 run (tests/test_bad_input_corpus.py says how it combines them).

An outcome is one of:
- Landed: ingest lands the files and job 1 accounts for every line: per table, the clean,
  quarantined and dropped counts (tables a case does not mention keep the base dataset's),
  the reasons of each quarantined line by line number, and some values of clean rows.
- Refused: `lake ingest` refuses the source in one line on stderr holding every substring
  given (the file name and line where the issue asks for them), and nothing lands.
- GateStopped: ingest lands the files, and job 1's quality gate stops with a message holding
  every substring given, one failed rule to a line, committing no clean table.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field

BASE_TEXT = {
    "aisles.csv": (
        "aisle_id,aisle\n"
        "1,fresh fruits\n"
        "2,fresh vegetables\n"
        "3,yogurt\n"
    ),
    "departments.csv": (
        "department_id,department\n"
        "1,produce\n"
        "2,dairy eggs\n"
    ),
    "products.csv": (
        "product_id,product_name,aisle_id,department_id\n"
        "1,Banana,1,1\n"
        "2,Organic Strawberries,1,1\n"
        "3,Carrots,2,1\n"
        "4,Greek Yogurt,3,2\n"
        "5,Baby Spinach,2,1\n"
    ),
    "orders.csv": (
        "order_id,user_id,eval_set,order_number,order_dow,order_hour_of_day,days_since_prior_order\n"
        "1,1,prior,1,2,8,\n"
        "2,1,prior,2,3,7,15.0\n"
        "3,1,prior,3,3,12,21.0\n"
        "4,1,train,4,4,7,29.0\n"
        "5,2,prior,1,1,9,\n"
        "6,2,prior,2,5,10,7.0\n"
        "7,2,prior,3,0,14,10.0\n"
        "8,2,test,4,6,16,5.0\n"
    ),
    "order_products__prior.csv": (
        "order_id,product_id,add_to_cart_order,reordered\n"
        "1,1,1,0\n"
        "1,2,2,0\n"
        "2,1,1,1\n"
        "2,3,2,0\n"
        "3,1,1,1\n"
        "3,4,2,0\n"
        "5,4,1,0\n"
        "5,5,2,0\n"
        "6,4,1,1\n"
        "6,5,2,1\n"
        "7,2,1,0\n"
        "7,4,2,1\n"
    ),
    "order_products__train.csv": (
        "order_id,product_id,add_to_cart_order,reordered\n"
        "4,1,1,1\n"
        "4,4,2,1\n"
        "4,2,3,0\n"
    ),
}
"""Three aisles, two departments, five products, two users with three prior orders and one
last order each (user 1's is train, user 2's test), and their order lines."""

ISSUE_CLASSES = frozenset({
    "headers", "encodings", "BOM", "CRLF", "line ends", "quotes", "blank lines", "ids", "ranges", "allowed values",
    "tab-padded fields", "field length", "duplicates", "foreign keys", "eval sets", "compressed or binary files",
    "empty files", "folders", "names",
})
"""The classes of bad input that issue 19 asks the corpus to cover."""

BASE = {name: text.encode() for name, text in BASE_TEXT.items()}
TABLES = tuple(name.removesuffix(".csv") for name in BASE)
BASE_ROWS = {name.removesuffix(".csv"): text.count("\n") - 1 for name, text in BASE_TEXT.items()}


@dataclass(frozen=True)
class Counts:
    clean: int
    quarantined: int = 0
    dropped: int = 0

    @property
    def raw(self) -> int:
        return self.clean + self.quarantined + self.dropped


@dataclass(frozen=True)
class Landed:
    counts: dict[str, Counts] = field(default_factory=dict)
    """Per table that differs from the base dataset."""
    quarantined: dict[str, dict[int, tuple[str, ...]]] = field(default_factory=dict)
    """Per table: line number -> the line's reasons."""
    clean: dict[str, dict[int | tuple[int, ...], dict]] = field(default_factory=dict)
    """Per table: the row's key (its value, or a tuple for a key of two columns) -> some
    columns of the clean row and their values."""
    ignored: tuple[str, ...] = ()
    """Files of the source folder reported as not ingested."""

    def table_counts(self, table: str) -> Counts:
        return self.counts.get(table, Counts(BASE_ROWS[table]))


@dataclass(frozen=True)
class Refused:
    message: tuple[str, ...]
    exit_code: int = 1


@dataclass(frozen=True)
class GateStopped:
    message: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    id: str
    issue_class: str
    expected: Landed | Refused | GateStopped
    files: dict[str, bytes | None] = field(default_factory=dict)
    """Path in the source folder -> its bytes (replacing the base file's), or None to remove it."""
    appended: dict[str, bytes] = field(default_factory=dict)
    """A base file's name -> lines appended to it (each ending with a line end)."""
    sources: tuple[str, ...] = (".",)
    """What `lake ingest` is given, relative to the source folder."""


def lines(name: str) -> list[bytes]:
    """The base file's lines, each with its line end; index 0 is the header (line 1)."""
    return BASE[name].splitlines(keepends=True)


def with_line(name: str, number: int, line: bytes) -> bytes:
    """The base file with line `number` (1 = the header) replaced by `line` (with its end)."""
    content = lines(name)
    content[number - 1] = line
    return b"".join(content)


def with_header(name: str, header: bytes) -> bytes:
    return with_line(name, 1, header)


def crlf(name: str) -> bytes:
    return BASE[name].replace(b"\n", b"\r\n")


AISLES_NEXT = len(lines("aisles.csv")) + 1
"""The line number of the first line appended to aisles.csv; and so on."""
DEPARTMENTS_NEXT = len(lines("departments.csv")) + 1
PRODUCTS_NEXT = len(lines("products.csv")) + 1
ORDERS_NEXT = len(lines("orders.csv")) + 1
PRIOR_NEXT = len(lines("order_products__prior.csv")) + 1
TRAIN_NEXT = len(lines("order_products__train.csv")) + 1
PRODUCTS_HEADER = "product_id,product_name,aisle_id,department_id"
FAR_PAST_64_KIB = 70_000
ONE_MB = 1 << 20
SIX_NAMES = "none of the six Instacart files"


def one_quarantined(table: str, *reasons: str) -> Landed:
    """The outcome of one line appended to `table` and quarantined with `reasons`."""
    return Landed(counts={table: Counts(BASE_ROWS[table], 1)},
                  quarantined={table: {len(lines(f"{table}.csv")) + 1: reasons}})


def one_clean(table: str, key: int, **values) -> Landed:
    """The outcome of one line appended to `table` that loads, with some of its values."""
    return Landed(counts={table: Counts(BASE_ROWS[table] + 1)}, clean={table: {key: values}})


def bad_aisle(case_id: str, line: bytes, *reasons: str) -> Case:
    return Case(case_id, "ids", one_quarantined("aisles", *reasons), appended={"aisles.csv": line})


def bad_order(case_id: str, issue_class: str, line: bytes, *reasons: str) -> Case:
    """A third user's order appended to orders.csv and quarantined with `reasons`."""
    return Case(case_id, issue_class, one_quarantined("orders", *reasons), appended={"orders.csv": line})


def new_product(case_id: str, issue_class: str, line: bytes, key: int, **values) -> Case:
    return Case(case_id, issue_class, one_clean("products", key, **values), appended={"products.csv": line})


def refused(case_id: str, issue_class: str, files: dict[str, bytes | None], *message: str,
            sources: tuple[str, ...] = (".",)) -> Case:
    return Case(case_id, issue_class, Refused(message), files=files, sources=sources)


CASES: list[Case] = [
    # headers
    refused("header_missing", "headers", {"products.csv": b"".join(lines("products.csv")[1:])},
            f"products.csv:1: header does not match products.csv: expected {PRODUCTS_HEADER}, found 1,Banana,1,1"),
    refused("header_wrong_order", "headers", {"aisles.csv": with_header("aisles.csv", b"aisle,aisle_id\n")},
            "aisles.csv:1: header does not match aisles.csv: expected aisle_id,aisle, found aisle,aisle_id"),
    refused("header_extra_column", "headers",
            {"departments.csv": with_header("departments.csv", b"department_id,department,note\n")},
            "departments.csv:1: header does not match departments.csv"),
    refused("header_upper_case", "headers", {"aisles.csv": with_header("aisles.csv", b"AISLE_ID,AISLE\n")},
            "aisles.csv:1: header does not match aisles.csv"),
    refused("header_semicolons", "headers", {"aisles.csv": BASE["aisles.csv"].replace(b",", b";")},
            "aisles.csv:1: header does not match aisles.csv: expected aisle_id,aisle, found aisle_id;aisle"),
    Case("header_quoted", "headers", Landed(),
         files={"aisles.csv": with_header("aisles.csv", b'"aisle_id","aisle"\n')}),
    Case("header_padded_with_spaces", "headers", Landed(),
         files={"departments.csv": with_header("departments.csv", b"department_id , department\n")}),
    refused("header_not_utf8", "encodings",
            {"departments.csv": with_header("departments.csv", b"department_id,d\xe9partement\n")},
            "departments.csv:1: header is not UTF-8 text"),
    # encodings
    Case("latin1_name", "encodings", one_quarantined("products", "invalid_utf8"),
         appended={"products.csv": b"6,Cr\xe8me fra\xeeche,3,2\n"}),
    Case("broken_utf8_in_name", "encodings", one_quarantined("aisles", "invalid_utf8"),
         appended={"aisles.csv": b"4,frozen \xe2\x82 meals\n"}),
    refused("utf16_file", "encodings", {"aisles.csv": BASE_TEXT["aisles.csv"].encode("utf-16")},
            "aisles.csv:1: not a CSV text file (NUL byte)"),
    new_product("name_decomposed_unicode", "encodings", "7,Cre\u0300me brule\u0301e,3,2\n".encode(), 7,
                product_name="Cr\u00e8me brul\u00e9e"),
    # BOM and line ends
    Case("bom", "BOM", Landed(), files={"departments.csv": b"\xef\xbb\xbf" + BASE["departments.csv"]}),
    Case("bom_and_crlf", "BOM", Landed(clean={"products": {5: {"product_name": "Baby Spinach", "department_id": 1}}}),
         files={"products.csv": b"\xef\xbb\xbf" + crlf("products.csv")}),
    Case("crlf", "CRLF",
         Landed(clean={"orders": {2: {"days_since_prior_order": 15}, 1: {"days_since_prior_order": None}}}),
         files={"orders.csv": crlf("orders.csv")}),
    Case("mixed_line_ends", "CRLF",
         Landed(clean={"order_products__prior": {(7, 2): {"add_to_cart_order": 1, "reordered": 0}}}),
         files={"order_products__prior.csv": b"".join(
             line.replace(b"\n", b"\r\n") if number % 2 else line
             for number, line in enumerate(lines("order_products__prior.csv")))}),
    new_product("lone_cr_in_name", "line ends", b"21,Ban\rana,3,2\n", 21, product_name="Ban ana", aisle_id=3),
    refused("classic_mac_line_ends", "line ends", {"aisles.csv": BASE["aisles.csv"].replace(b"\n", b"\r")},
            "aisles.csv:1: header does not match aisles.csv"),
    Case("trailing_newline_missing", "line ends",
         Landed(clean={"order_products__train": {(4, 2): {"add_to_cart_order": 3, "reordered": 0}}}),
         files={"order_products__train.csv": BASE["order_products__train.csv"].removesuffix(b"\n")}),
    Case("blank_line", "blank lines",
         Landed(counts={"aisles": Counts(3, 1)}, quarantined={"aisles": {AISLES_NEXT: ("wrong_column_count",)}}),
         appended={"aisles.csv": b"\n"}),
    Case("blank_line_crlf", "blank lines",
         Landed(counts={"departments": Counts(2, 1)},
                quarantined={"departments": {DEPARTMENTS_NEXT: ("wrong_column_count",)}}),
         appended={"departments.csv": b"\r\n"}),
    # quotes
    new_product("quoted_fields", "quotes", b'"8","Quoted Tea","3","2"\n', 8,
                product_name="Quoted Tea", aisle_id=3, department_id=2),
    new_product("escaped_quotes", "quotes", b'9,"Organic ""Sweet"" Strawberries",1,1\n', 9,
                product_name='Organic "Sweet" Strawberries'),
    new_product("comma_inside_quotes", "quotes", b'10,"Carrots, baby",2,1\n', 10, product_name="Carrots, baby"),
    Case("quoted_newline_is_one_record", "quotes",
         Landed(counts={"products": Counts(7)},
                clean={"products": {11: {"product_name": "Gift Box", "aisle_id": 3}, 12: {"product_name": "Tea"}}}),
         appended={"products.csv": b'11,"Gift\nBox",3,2\n12,Tea,3,2\n'}),
    Case("unterminated_quote", "quotes",
         Landed(counts={"products": Counts(6, 1)},
                quarantined={"products": {PRODUCTS_NEXT: ("unterminated_quote", "wrong_column_count")}},
                clean={"products": {7: {"product_name": "Tea"}}}),
         files={"products.csv": BASE["products.csv"] + b'6,"Gift Box,3,2\n7,Tea,3,2\n'}),
    Case("unterminated_quote_mid_file", "quotes",
         Landed(counts={"aisles": Counts(3, 1)}, quarantined={"aisles": {3: ("unterminated_quote",)}},
                clean={"aisles": {2: {"aisle": "fresh vegetables"}, 3: {"aisle": "yogurt"}}}),
         files={"aisles.csv": with_line("aisles.csv", 3, b'4,"frozen meals\n' + lines("aisles.csv")[2])}),
    # ids
    bad_aisle("id_not_a_number", b"x,frozen\n", "unparsable_number:aisle_id"),
    Case("id_zero_fraction", "ids", one_clean("aisles", 15, aisle="frozen"), appended={"aisles.csv": b"15.0,frozen\n"}),
    Case("id_zero_padded", "ids", one_clean("aisles", 9, aisle="bakery"), appended={"aisles.csv": b"09,bakery\n"}),
    bad_aisle("id_exponent", b"1e3,frozen\n", "unparsable_number:aisle_id"),
    bad_aisle("id_fraction", b"15.5,frozen\n", "unparsable_number:aisle_id"),
    bad_aisle("id_negative", b"-4,frozen\n", "out_of_range:aisle_id"),
    bad_aisle("id_zero", b"0,frozen\n", "out_of_range:aisle_id"),
    bad_aisle("id_beyond_int32", b"2147483648,frozen\n", "unparsable_number:aisle_id"),
    bad_aisle("id_empty", b",frozen\n", "missing_value:aisle_id"),
    Case("name_empty", "ids", one_quarantined("departments", "missing_value:department"),
         appended={"departments.csv": b"3,\n"}),
    bad_order("too_few_columns", "ids", b"9,3,prior\n", "wrong_column_count"),
    Case("too_many_columns", "ids", one_quarantined("aisles", "wrong_column_count"),
         appended={"aisles.csv": b"5,frozen,meals\n"}),
    # ranges and allowed values
    bad_order("order_dow_7", "ranges", b"10,3,prior,1,7,10,\n", "out_of_range:order_dow"),
    bad_order("order_hour_24", "ranges", b"11,3,prior,1,3,24,\n", "out_of_range:order_hour_of_day"),
    bad_order("days_since_prior_31", "ranges", b"12,3,prior,2,3,10,31\n", "out_of_range:days_since_prior_order"),
    bad_order("order_number_0", "ranges", b"13,3,prior,0,3,10,\n", "out_of_range:order_number"),
    Case("reordered_2", "ranges", one_quarantined("order_products__prior", "out_of_range:reordered"),
         appended={"order_products__prior.csv": b"1,3,3,2\n"}),
    bad_order("eval_set_upper_case", "allowed values", b"14,3,TRAIN,1,3,10,\n", "invalid_value:eval_set"),
    bad_order("days_since_prior_on_first_order", "allowed values", b"15,3,prior,1,3,10,5\n",
              "days_since_prior_on_first_order"),
    bad_order("days_since_prior_missing_on_later_order", "allowed values", b"16,3,prior,2,3,10,\n",
              "missing_value:days_since_prior_order"),
    # whitespace
    new_product("tab_padded_fields", "tab-padded fields", b"\t13\t,\tTabbed Tea\t,\t3,2\t\n", 13,
                product_name="Tabbed Tea", aisle_id=3, department_id=2),
    new_product("space_padded_fields", "tab-padded fields", b" 14 , Padded Tea , 03 , 2.0 \n", 14,
                product_name="Padded Tea", aisle_id=3, department_id=2),
    new_product("name_with_repeated_spaces", "tab-padded fields", b"15,Baby    Spinach  Leaves ,2,1\n", 15,
                product_name="Baby Spinach Leaves"),
    # field length
    Case("product_name_1_mb", "field length",
         Landed(counts={"products": Counts(6, 1)},
                quarantined={"products": {PRODUCTS_NEXT: ("too_long:product_name",)}},
                clean={"products": {17: {"product_name": "Tea"}}}),
         appended={"products.csv": b"16," + b"a" * ONE_MB + b",3,2\n17,Tea,3,2\n"}),
    new_product("product_name_500_chars", "field length", b"18," + b"a" * 500 + b",3,2\n", 18, aisle_id=3),
    Case("aisle_name_201_chars", "field length", one_quarantined("aisles", "too_long:aisle"),
         appended={"aisles.csv": b"6," + b"b" * 201 + b"\n"}),
    # duplicates
    Case("exact_duplicate_dropped", "duplicates", Landed(counts={"aisles": Counts(3, dropped=1)}),
         appended={"aisles.csv": b"2,fresh vegetables\n"}),
    Case("key_conflict", "duplicates",
         Landed(counts={"aisles": Counts(3, 1)}, quarantined={"aisles": {AISLES_NEXT: ("duplicate_key",)}},
                clean={"aisles": {2: {"aisle": "fresh vegetables"}}}),
         appended={"aisles.csv": b"2,frozen\n"}),
    Case("order_line_key_conflict", "duplicates",
         Landed(counts={"order_products__prior": Counts(12, 1, 1)},
                quarantined={"order_products__prior": {PRIOR_NEXT: ("duplicate_key",)}}),
         appended={"order_products__prior.csv": b"1,2,3,1\n1,1,1,0\n"}),
    # foreign keys
    Case("unknown_product", "foreign keys", one_quarantined("order_products__prior", "unknown_product_id"),
         appended={"order_products__prior.csv": b"1,999,3,0\n"}),
    Case("unknown_aisle", "foreign keys", one_quarantined("products", "unknown_aisle_id"),
         appended={"products.csv": b"19,Tea,99,2\n"}),
    Case("unknown_order", "foreign keys", one_quarantined("order_products__train", "unknown_order_id"),
         appended={"order_products__train.csv": b"999,1,4,0\n"}),
    Case("referenced_row_quarantined", "foreign keys",
         Landed(counts={"aisles": Counts(3, 1), "products": Counts(5, 1), "orders": Counts(8, 1),
                        "order_products__prior": Counts(12, 2)},
                quarantined={"aisles": {AISLES_NEXT: ("missing_value:aisle",)},
                             "products": {PRODUCTS_NEXT: ("referenced_row_quarantined:aisle_id",)},
                             "orders": {ORDERS_NEXT: ("out_of_range:order_hour_of_day",)},
                             "order_products__prior": {PRIOR_NEXT: ("referenced_row_quarantined:product_id",),
                                                       PRIOR_NEXT + 1: ("referenced_row_quarantined:order_id",)}}),
         appended={"aisles.csv": b"7,\n", "products.csv": b"20,Orphan Tea,7,2\n",
                   "orders.csv": b"17,3,prior,1,3,24,\n",
                   "order_products__prior.csv": b"1,20,3,0\n17,1,1,0\n"}),
    # eval sets
    Case("train_line_of_a_prior_order", "eval sets",
         one_quarantined("order_products__train", "order_eval_set_mismatch"),
         appended={"order_products__train.csv": b"1,3,4,0\n"}),
    Case("prior_line_of_a_test_order", "eval sets",
         one_quarantined("order_products__prior", "order_eval_set_mismatch"),
         appended={"order_products__prior.csv": b"8,3,1,0\n"}),
    Case("user_with_two_train_orders", "eval sets",
         Landed(counts={"orders": Counts(6, 2), "order_products__prior": Counts(10),
                        "order_products__train": Counts(3, 2)},
                quarantined={"orders": {8: ("second_last_order:eval_set",), 9: ("second_last_order:eval_set",)},
                             "order_products__train": {5: ("referenced_row_quarantined:order_id",),
                                                       6: ("referenced_row_quarantined:order_id",)}}),
         files={"orders.csv": b"".join(lines("orders.csv")[:7]) + b"7,2,train,3,0,14,10.0\n8,2,train,4,6,16,5.0\n",
                "order_products__prior.csv": b"".join(lines("order_products__prior.csv")[:11]),
                "order_products__train.csv": BASE["order_products__train.csv"] + b"7,2,1,0\n7,4,2,1\n"}),
    # compressed and binary files
    refused("gzip_given_as_source", "compressed or binary files",
            {"products.csv.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"},
            "products.csv.gz", "not one of the six Instacart files", sources=("products.csv.gz",)),
    refused("gzip_named_csv", "compressed or binary files", {"orders.csv": gzip.compress(BASE["orders.csv"], mtime=0)},
            "orders.csv:1: not a CSV text file (NUL byte)"),
    refused("nul_in_first_64_kib", "compressed or binary files",
            {"aisles.csv": with_line("aisles.csv", 3, b"2,fresh\x00vegetables\n")},
            "aisles.csv:3: not a CSV text file (NUL byte)"),
    refused("nul_past_64_kib", "compressed or binary files",
            {"products.csv": BASE["products.csv"] + b"6," + b"a" * FAR_PAST_64_KIB + b",3,2\n7,T\x00a,3,2\n"},
            f"products.csv:{PRODUCTS_NEXT + 1}: not a CSV text file (NUL byte)"),
    refused("empty_file", "empty files", {"aisles.csv": b""}, "aisles.csv:1: file is empty"),
    Case("header_only_file", "empty files",
         GateStopped(("data-quality gate failed, nothing committed", "order_products__train: RowCount > 0")),
         files={"order_products__train.csv": lines("order_products__train.csv")[0]}),
    # folders
    refused("folder_without_sources", "folders", {name: None for name in BASE} | {"README.md": b"notes\n"}, SIX_NAMES),
    refused("sources_one_folder_down", "folders",
            {name: None for name in BASE} | {f"instacart/{name}": content for name, content in BASE.items()},
            SIX_NAMES),
    refused("folder_named_like_a_source", "folders", {"orders.csv": None, "orders.csv/orders.csv": BASE["orders.csv"]},
            "source/orders.csv", "folder"),
    refused("folder_named_like_a_source_given", "folders",
            {"orders.csv": None, "orders.csv/orders.csv": BASE["orders.csv"]},
            "source/orders.csv", "folder", sources=("orders.csv",)),
    refused("missing_path", "folders", {}, "nowhere: no such file or folder", sources=(".", "nowhere")),
    # names
    refused("upper_case_extension_given", "names", {"orders.csv": None, "orders.CSV": BASE["orders.csv"]},
            "orders.CSV", "did you mean orders.csv?", sources=("orders.CSV",)),
    refused("upper_case_extension_in_folder", "names", {"orders.csv": None, "orders.CSV": BASE["orders.csv"]},
            "orders.CSV", "did you mean orders.csv?"),
    refused("capitalized_name_in_folder", "names", {"orders.csv": None, "Orders.csv": BASE["orders.csv"]},
            "Orders.csv", "did you mean orders.csv?"),
    refused("unknown_file_given", "names", {"customers.csv": b"customer_id\n1\n"}, "unknown file 'customers.csv'",
            sources=(".", "customers.csv")),
    Case("readme_in_folder", "names", Landed(ignored=("README.md",)), files={"README.md": b"# the Instacart files\n"}),
    Case("generator_sidecars_in_folder", "names", Landed(ignored=("defects.csv", "ground_truth.csv")),
         files={"ground_truth.csv": b"order_id,product_id\n4,1\n", "defects.csv": b"file,line,kind,column\n"}),
    refused("file_given_twice", "names", {}, "the same file name is given twice: aisles.csv",
            sources=(".", "aisles.csv")),
]
