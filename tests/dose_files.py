"""Dose and resident files as offices send them, in every format DESIGN.md §7 accepts."""

import csv
import itertools
from datetime import date
from pathlib import Path

from openpyxl import Workbook
from stdnum.cn import ric

DOSE_HEADERS = [
    "序号", "预防接种档案编号", "受种者姓名", "身份证件类别", "身份证件号码", "性别",
    "受种者出生时间", "人群分类", "疫苗接种时间", "疫苗剂次", "疫苗生产企业",
    "疫苗生产企业代码", "疫苗批号", "疫苗追溯码", "接种单位", "接种单位编码", "区县名称",
    "区县编码",
]  # fmt: skip
RESIDENT_HEADERS = ["姓名", "身份证件号码", "联系电话", "网格编码", "人员状态", "未接种原因"]
FORMATS = ("utf-8", "utf-8-sig", "gb18030", "xlsx")

_sequence = itertools.count(100)


def id_number(birth: date) -> str:
    """A valid ID number for someone born on `birth` in 通渭 (622424 before 2003)."""
    region = "622424" if birth.year < 2003 else "621121"
    body = f"{region}{birth:%Y%m%d}{next(_sequence) % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def dose_row(*, name="", id_number, given, dose, maker, lot="202104A"):
    cells = dict.fromkeys(DOSE_HEADERS, "")
    cells.update(
        {"受种者姓名": name, "身份证件类别": "居民身份证", "身份证件号码": id_number,
         "疫苗接种时间": given, "疫苗剂次": dose, "疫苗生产企业": maker, "疫苗批号": lot,
         "接种单位": "平襄镇卫生院接种点", "区县名称": "通渭县", "区县编码": "621121"}
    )  # fmt: skip
    return [cells[header] for header in DOSE_HEADERS]


def write_table(path: Path, headers: list[str], rows: list[list], file_format: str) -> Path:
    """`rows` as `.xlsx` (dates as Excel date cells) or CSV in the given encoding."""
    if file_format == "xlsx":
        path = path.with_suffix(".xlsx")
        workbook = Workbook()
        sheet = workbook.active
        sheet.append(headers)
        for row in rows:
            sheet.append(row)
        workbook.save(path)
        return path
    path = path.with_suffix(".csv")
    with path.open("w", encoding=file_format, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(
            [cell.isoformat() if isinstance(cell, date) else cell for cell in row] for row in rows
        )
    return path
