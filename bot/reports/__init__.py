"""Reports for the city's communication plan: figures of any period (`figures`), the
plan's 6-month and yearly periods (`periods`), tables and their XLSX/CSV files
(`tables`), and the retention that purges old question-log rows into anonymous daily
aggregates without changing past figures (`retention`, read through `daily`)."""

from __future__ import annotations

from bot.reports.figures import Report, compute
from bot.reports.periods import Period, plan_periods, six_month, yearly
from bot.reports.tables import Sheet, sheets, to_csv, to_xlsx

__all__ = ["Period", "Report", "Sheet", "compute", "plan_periods", "sheets", "six_month", "to_csv", "to_xlsx", "yearly"]
