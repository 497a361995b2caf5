"""Tables (tab-separated blocks with a header row) and the policy clauses read from them."""

from __future__ import annotations

from kb.models import PolicyClause, Table

from .text import iso_date

STATUS_WORDS = ("正式文件", "征求意见")

# header keyword -> PolicyClause field; first matching keyword wins, checked in this order
POLICY_COLUMNS: list[tuple[str, tuple[str, ...]]] = [
    ("province", ("省份", "地区", "省市", "省")),
    ("policy_name", ("政策名称", "文件名称", "名称", "文件")),
    ("requirement", ("政策要求", "要求", "内容")),
    ("self_use_ratio", ("自用比例", "自用")),
    ("grid_ratio", ("上网比例", "上网")),
    ("release_date", ("发布日期", "发布时间", "日期", "时间")),
    ("status", ("状态", "备注", "类型")),
]


def split_row(line: str) -> list[str]:
    return [cell.strip() for cell in line.split("\t")]


def build_table(lines: list[str], caption: str | None = None) -> Table:
    """First tab line is the header; rows are padded or folded to the header's width."""
    header, *body = [split_row(line) for line in lines]
    width = len(header)
    rows = []
    for cells in body:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        elif len(cells) > width:
            cells = cells[: width - 1] + [" ".join(c for c in cells[width - 1 :] if c)]
        rows.append(cells)
    return Table(caption=caption, headers=header, rows=rows)


def _column_map(headers: list[str]) -> dict[str, int]:
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for field_name, keywords in POLICY_COLUMNS:
        for keyword in keywords:
            index = next((i for i, h in enumerate(headers) if keyword in h and i not in used), None)
            if index is not None:
                mapping[field_name] = index
                used.add(index)
                break
    return mapping


def is_policy_table(table: Table) -> bool:
    """A provincial policy table: a province column plus a policy or ratio column."""
    columns = _column_map(table.headers)
    return "province" in columns and ({"policy_name", "requirement", "self_use_ratio"} & columns.keys()) != set()


def policy_clauses(table: Table, table_index: int) -> list[PolicyClause]:
    columns = _column_map(table.headers)
    clauses = []
    for row_index, row in enumerate(table.rows):

        def cell(name: str) -> str | None:
            index = columns.get(name)
            value = row[index].strip() if index is not None and index < len(row) else ""
            return value or None

        province = cell("province")
        if not province:
            continue
        status = cell("status")
        if status not in STATUS_WORDS:
            status = next((w for w in STATUS_WORDS if any(w in c for c in row)), status)
        date_text = cell("release_date")
        clauses.append(
            PolicyClause(
                province=province,
                policy_name=cell("policy_name"),
                requirement=cell("requirement"),
                self_use_ratio=cell("self_use_ratio"),
                grid_ratio=cell("grid_ratio"),
                release_date=iso_date(date_text) if date_text else None,
                status=status,
                table_index=table_index,
                row_index=row_index,
            )
        )
    return clauses

