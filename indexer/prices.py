"""Price records from the supply-chain price report (光伏产业供应链价格报告).

The report quotes one product a clause: 'N型复投料均价为34.5元/千克', '182mm TOPCon 双面双玻组件
报价为 0.67 元/W', '210mm HJT 双面双玻组件报价为 0.70-0.74 元/W'. Only an article whose title names a
price report is read (other articles quote prices in passing, of no fixed product); a report
given as a table (产品 | 均价 …) is read row by row.
"""

from __future__ import annotations

import re
import unicodedata

from kb.models import Article, Table
from kb.numbers import PriceRecord, product_name

REPORT_TITLE = re.compile(r"价格(?:报告|周报|月报|行情|指数|汇总)|报价(?:汇总|一览)|价格一览")
CLAUSES = re.compile(r"[，；。;！!\n]|(?<!\d)[,:：](?!\d)")
UNIT = r"元\s*/\s*(?:千克|公斤|kg|KG|吨|Pc|pc|PC|片|W|w|瓦|平米|平方米|㎡|m2|块)"
QUOTE = re.compile(
    r"^(?P<product>.*?\S)\s*(?:成交)?(?:均价|报价|价格|成交价|均值)\s*(?:为|是|在)?\s*"
    r"(?P<low>\d+(?:\.\d+)?)\s*(?:[-–—~～至]\s*(?P<high>\d+(?:\.\d+)?))?\s*(?P<unit>" + UNIT + r")"
)
UNIT_SPELLINGS = {
    "元/公斤": "元/千克", "元/kg": "元/千克", "元/KG": "元/千克", "元/pc": "元/Pc", "元/PC": "元/Pc",
    "元/片": "元/Pc", "元/w": "元/W", "元/瓦": "元/W", "元/平方米": "元/平米", "元/㎡": "元/平米", "元/m2": "元/平米",
}
PRODUCT_HEADERS = ("产品", "品种", "品名", "名称", "规格")
PRICE_HEADERS = ("均价", "价格", "报价", "成交价")
UNIT_IN_HEADER = re.compile(r"(?P<unit>" + UNIT + r")")
LEADING_WORDS = re.compile(r"^(?:其中|另外|此外|同时|本周|当前|目前)\s*")


def is_price_report(article: Article) -> bool:
    return bool(REPORT_TITLE.search(article.title))


def price_records(article: Article) -> list[PriceRecord]:
    """Every quoted price of a price-report article, in reading order (none for other articles)."""
    if not is_price_report(article):
        return []
    records = [record for paragraph in article.paragraphs for record in _from_text(paragraph)]
    for table in article.tables:
        records.extend(_from_table(table))
    return records


def _from_text(paragraph: str) -> list[PriceRecord]:
    records = []
    for clause in CLAUSES.split(unicodedata.normalize("NFKC", paragraph)):
        match = QUOTE.match(clause.strip())
        if match:
            product = product_name(LEADING_WORDS.sub("", match["product"]))
            if product:
                records.append(_record(product, match["low"], match["high"], match["unit"]))
    return records


def _record(product: str, low: str, high: str | None, unit: str) -> PriceRecord:
    unit = re.sub(r"\s+", "", unit)
    unit = UNIT_SPELLINGS.get(unit, unit)
    if high is None:
        return PriceRecord(product, float(low), unit)
    a, b = float(low), float(high)
    return PriceRecord(product, round((a + b) / 2, 6), unit, low=a, high=b)


def _from_table(table: Table) -> list[PriceRecord]:
    """A price table: a product column, a price column, the unit in a header, a unit column or the table's."""
    headers = [unicodedata.normalize("NFKC", h) for h in table.headers]
    product_col = next((i for i, h in enumerate(headers) if h.startswith(PRODUCT_HEADERS)), None)
    price_col = next((i for i, h in enumerate(headers) if any(w in h for w in PRICE_HEADERS)), None)
    if product_col is None or price_col is None:
        return []
    unit_col = next((i for i, h in enumerate(headers) if h.strip() == "单位"), None)
    header_unit = UNIT_IN_HEADER.search(headers[price_col])
    records = []
    for row in table.rows:
        price = re.match(r"^\s*(\d+(?:\.\d+)?)\s*(?:[-–—~～至]\s*(\d+(?:\.\d+)?))?\s*(" + UNIT + r")?\s*$",
                         unicodedata.normalize("NFKC", row[price_col]))
        unit = (price and price[3]) or (header_unit and header_unit["unit"]) or (
            row[unit_col] if unit_col is not None else table.unit)
        product = product_name(row[product_col])
        if price and unit and product:
            records.append(_record(product, price[1], price[2], unit))
    return records
