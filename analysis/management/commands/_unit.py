"""What the analysis commands share: UNIT as the unit's code or id (as plan_import's command reads it)."""

from django.core.management.base import CommandError

from organizations.models import Organization
from organizations.selectors import unit_by_code_or_id


def unit_of(value: str) -> Organization:
    unit = unit_by_code_or_id(value)
    if unit is None:
        raise CommandError(f"没有代码或编号为“{value}”的单位。")
    return unit


def file_read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"无法读取文件 {path}：{exc.strerror or exc}") from exc
