"""The raw-zone crawler: Glue crawler behaviour (built-in CSV classifier) on the lake's catalog."""

from instacart_lake.crawler.crawl import SCHEMA_CHANGE_POLICIES, crawl_raw_zone, crawler_name
from instacart_lake.crawler.csv_inference import FileSchema, InferredColumn, infer_file_schema
from instacart_lake.crawler.drift import SchemaDrift
from instacart_lake.crawler.layout import CrawlProblem
from instacart_lake.crawler.report import CrawlReport, PartitionChange

__all__ = [
    "SCHEMA_CHANGE_POLICIES", "CrawlProblem", "CrawlReport", "FileSchema", "InferredColumn", "PartitionChange",
    "SchemaDrift", "crawl_raw_zone", "crawler_name", "infer_file_schema",
]
