"""The incident list as an Excel 台账 (openpyxl): the rows the list shows, with the same visibility,
filters and order, Chinese headers and times as the unit reads them (Asia/Shanghai).

Text is always written as text: a title such as "=HYPERLINK(…)" is never a formula in the sheet,
and characters a workbook cannot hold are dropped rather than failing the export.
"""

from collections.abc import Iterable
from datetime import datetime
from io import BytesIO
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from incidents.filtersets import IncidentFilterSet
from incidents.models import HandlingCategory, Incident, IncidentType, Platform, State, WarningLevel
from incidents.selectors import subordinate_unit_ids
from organizations.models import Organization, ResponseGroup
from organizations.roles import user_organization_id

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_EXPORT_MAX_ROWS = 5000
CELL_TEXT_LIMIT = 32_000  # Excel holds at most 32,767 characters in a cell
TIME_FORMAT = "yyyy-mm-dd hh:mm"


def export_row_limit() -> int:
    """The most rows one export may hold (setting INCIDENT_EXPORT_MAX_ROWS)."""
    return int(getattr(settings, "INCIDENT_EXPORT_MAX_ROWS", DEFAULT_EXPORT_MAX_ROWS))


def _columns() -> list[tuple[str, int]]:
    """(header, width) of each column, in the reader's language."""
    return [
        (_("编号"), 11),
        (_("单位"), 16),
        (_("标题"), 40),
        (_("状态"), 9),
        (_("预警级别"), 10),
        (_("处置类别"), 14),
        (_("舆情类型"), 14),
        (_("平台"), 10),
        (_("发现时间"), 17),
        (_("登记时间"), 17),
        (_("登记人"), 10),
        (_("承办工作组"), 20),
        (_("最近时限"), 17),
        (_("有逾期时限"), 10),
        (_("上报上级时间"), 17),
        (_("办结时间"), 17),
        (_("演练"), 6),
        (_("后补登记"), 8),
        (_("情况描述"), 60),
    ]


def _text(sheet: Any, value: Any) -> WriteOnlyCell:
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value or ""))[:CELL_TEXT_LIMIT]
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _time(sheet: Any, value: datetime | None) -> WriteOnlyCell:
    if value is None:
        return WriteOnlyCell(sheet, value=None)
    # Excel has no time zones: the wall-clock time where the unit works.
    cell = WriteOnlyCell(sheet, value=timezone.localtime(value).replace(tzinfo=None))
    cell.number_format = TIME_FORMAT
    return cell


def _yes(flag: bool) -> str:
    return _("是") if flag else ""


def _person(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _row(sheet: Any, incident: Incident, now: datetime) -> list[WriteOnlyCell]:
    next_due = getattr(incident, "next_due", None)
    return [
        _text(sheet, incident.reference),
        _text(sheet, incident.organization.name),
        _text(sheet, incident.title),
        _text(sheet, incident.get_state_display()),
        _text(sheet, incident.level.name if incident.level else _("未定级")),
        _text(sheet, incident.category.name if incident.category else ""),
        _text(sheet, incident.incident_type.name if incident.incident_type else ""),
        _text(sheet, incident.get_platform_display()),
        _time(sheet, incident.discovered_at),
        _time(sheet, incident.logged_at),
        _text(sheet, _person(incident.reporter)),
        _text(sheet, "、".join(group.name for group in incident.assigned_groups.all())),
        _time(sheet, next_due),
        _text(sheet, _yes(next_due is not None and next_due < now)),
        _time(sheet, incident.escalated_at),
        _time(sheet, incident.closed_at),
        _text(sheet, _yes(incident.is_drill)),
        _text(sheet, _yes(incident.logged_late)),
        _text(sheet, incident.description),
    ]


def incidents_workbook(
    incidents: Iterable[Incident], *, exported_by: Any, exported_at: datetime, filters: list[tuple[str, str]]
) -> bytes:
    """The .xlsx file: sheet 舆情台账 (one row per incident, headers frozen and repeated on every
    printed page) and sheet 导出说明 (who exported what, when, with which filters)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("舆情台账"))
    columns = _columns()
    for index, (_header, width) in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.print_title_rows = "1:1"
    bold = Font(bold=True)
    header = []
    for title, _width in columns:
        cell = _text(sheet, title)
        cell.font = bold
        cell.alignment = Alignment(vertical="center")
        header.append(cell)
    sheet.append(header)
    now = timezone.now()
    count = 0
    for incident in incidents:
        sheet.append(_row(sheet, incident, now))
        count += 1
    about = workbook.create_sheet(_("导出说明"))
    about.column_dimensions["A"].width = 16
    about.column_dimensions["B"].width = 60
    lines = [
        (_("导出时间"), timezone.localtime(exported_at).strftime("%Y-%m-%d %H:%M")),
        (_("导出人"), _person(exported_by)),
        (_("条数"), str(count)),
        (_("排序"), _("按紧急程度（最近时限）")),
        *[(label, value) for label, value in filters],
    ]
    if not filters:
        lines.append((_("筛选条件"), _("无（全部可见舆情）")))
    for label, value in lines:
        about.append([_text(about, label), _text(about, value)])
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filters_described(filterset: IncidentFilterSet, user: Any) -> list[tuple[str, str]]:
    """The filters applied, as 「label, value」 lines; ids are named only when they are the user's
    own unit's (or a subordinate unit's), so the sheet never names another unit's records."""
    if not filterset.is_bound or not filterset.is_valid():
        return []
    organization_id = user_organization_id(user) or 0
    units = [organization_id, *subordinate_unit_ids(organization_id)] if organization_id else []
    names: dict[str, Any] = {
        "level": WarningLevel.objects.filter(plan__organization_id__in=units),
        "category": HandlingCategory.objects.filter(plan__organization_id__in=units),
        "incident_type": IncidentType.objects.filter(plan__organization_id__in=units),
        "group": ResponseGroup.objects.filter(organization_id=organization_id),
        "unit": Organization.objects.filter(pk__in=units),
    }
    choices = {"state": dict(State.choices), "platform": dict(Platform.choices)}
    lines = []
    for name, value in filterset.form.cleaned_data.items():
        if value in (None, "", []):
            continue
        label = str(filterset.filters[name].label or name)
        if name in names:
            found = names[name].filter(pk=value).first()
            shown = str(getattr(found, "name", "")) if found is not None else str(value)
        elif name in choices:
            values = value if isinstance(value, list) else [value]
            shown = "、".join(str(choices[name].get(v, v)) for v in values)
        elif isinstance(value, bool):
            shown = _("是") if value else _("否")
        elif isinstance(value, datetime):
            shown = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        else:
            shown = str(value)
        lines.append((label, shown))
    return lines
