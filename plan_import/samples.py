"""Ready-made plans a new unit can start from (从范本开始): plain texts drawn from the plans units
already use (a school's, an agency's, a company's), read by the same importer as an uploaded file."""

from pathlib import Path

from django.utils.translation import gettext_lazy as _

_FOLDER = Path(__file__).resolve().parent / "samples"

SAMPLES = [
    ("school", _("学校网络舆情应急预案（范本）")),
    ("agency", _("机关事业单位网络舆情应急预案（范本）")),
    ("company", _("企业网络舆情应急处置预案（范本）")),
]


def sample_text(key: str) -> str:
    """The sample's text; KeyError for a key that is not one of SAMPLES."""
    if key not in dict(SAMPLES):
        raise KeyError(key)
    return (_FOLDER / f"{key}.txt").read_text(encoding="utf-8")
