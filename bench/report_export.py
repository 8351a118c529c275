"""How long a written report takes to export as an official document: Word (python-docx) and PDF
(WeasyPrint), for an incident with 50 timeline entries, published statements and a signed report
of a few pages — the time of the download views without the HTTP around them.

    .venv/bin/python bench/report_export.py [--quick]

The database is a fresh SQLite file in a temporary folder unless DATABASE_URL names one; a named
database must have "bench" in its name (PostgreSQL: created when missing, migrated, a new incident
added on each run). Each figure is the median of several exports (3 with --quick, 15 without),
each building the document from the database and writing the file. Goal: a PDF in under 2 s.
The last line holds the figures.
"""

import argparse
import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
WORK = tempfile.mkdtemp(prefix="oo-report-export-bench-")
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
os.environ.setdefault("DATABASE_URL", f"sqlite:///{WORK}/report_export_bench.sqlite3")
os.environ.setdefault("OPINION_OPS_VAR_DIR", WORK)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_ops.settings")
os.environ["DEBUG"] = "false"  # no query log
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

TIMELINE_ENTRIES = 50
GOAL_PDF_MS = 2000


def database_check() -> None:
    """Refuse any database but a bench one; create a PostgreSQL bench database when missing."""
    from dj_database_url import parse

    config = parse(os.environ["DATABASE_URL"])
    name = str(config["NAME"])
    if "bench" not in Path(name).name:
        sys.exit(f'refusing database "{name}": its name must contain "bench"')
    if "postgresql" not in str(config["ENGINE"]):
        return
    from bench.api import ensure_database

    ensure_database()


def seed() -> Any:
    """A unit under a superior, its people, and a new incident handled far enough for a full report:
    50 timeline entries, two published statements, a long written report sent up and signed."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from incidents.models import Report, TimelineEntry
    from incidents.services import incidents as svc
    from incidents.services import records
    from incidents.services import statements as st
    from opinion_ops.testing import make_unit, make_user
    from organizations.models import Organization

    unit = Organization.objects.filter(code="bench-district").first()
    if unit is None:
        city = make_unit("示范市教育局", "bench-city")
        unit = make_unit("示范区教育局", "bench-district", parent=city)
        for name, group in [
            ("bench-monitor", "monitoring"),
            ("bench-analyst", "analysis"),
            ("bench-leader", "leadership"),
            ("bench-handler", "handling"),
            ("bench-press", "publicity"),
            ("bench-office", "office"),
        ]:
            make_user(name, unit, group, position="head" if group == "leadership" else "member")
    people = {
        u.username.removeprefix("bench-"): u for u in get_user_model().objects.filter(username__startswith="bench-")
    }
    level = unit.plans.get(status="active").levels.order_by("rank").last()

    now = timezone.now()
    incident = svc.incident_create(
        actor=people["monitor"],
        title="网传某校食堂饭菜质量问题引发家长关注",
        discovered_at=now - timedelta(hours=6),
        description="有网民在微博发布视频，称某校食堂饭菜变质，引发家长转发。",
    )
    svc.incident_start_assessment(incident_id=incident.pk, actor=people["analyst"])
    svc.assessment_record(
        incident_id=incident.pk, actor=people["analyst"], nature="不实信息", scope="本地", trend="rising", risk="high"
    )
    svc.incident_issue_warning(incident_id=incident.pk, actor=people["leader"], level=level)
    svc.incident_start_response(incident_id=incident.pk, actor=people["handler"])
    for title, channel in [("情况通报", "官方微博"), ("答家长问", "官方微信公众号")]:
        statement = st.statement_create(
            incident_id=incident.pk, actor=people["press"], title=title, text="经核查，网传视频系外地旧闻。"
        )
        st.statement_submit(statement_id=statement.pk, actor=people["press"])
        st.statement_decide(statement_id=statement.pk, actor=people["leader"], approve=True)
        st.statement_publish(statement_id=statement.pk, actor=people["press"], channel=channel)
    kinds = ["reply", "clarification", "takedown", "media", "other"]
    n = 0
    while TimelineEntry.objects.filter(incident_id=incident.pk).count() < TIMELINE_ENTRIES:
        records.measure_record(
            incident_id=incident.pk,
            actor=people["handler"],
            kind=kinds[n % len(kinds)],
            description=f"第{n + 1}次处置：联系平台核实并回复网民关切，说明食堂食材检测结果。",
            target="微博",
            outcome="相关帖文转发量下降",
            taken_at=now - timedelta(hours=5) + timedelta(minutes=5 * n),
        )
        n += 1
    facts = "\n".join(
        f"{n}. 经现场核查和调取监控，网传视频拍摄于2019年外地某校，与我区学校无关；家长情绪已逐步平稳。" * 2
        for n in range(1, 16)
    )
    report = records.report_record(
        incident_id=incident.pk,
        actor=people["office"],
        kind=Report.Kind.WRITTEN,
        reported_to="区委宣传部、区教育局领导小组",
        occurred_at=timezone.now(),
        summary="关于食堂舆情的书面报告",
        cause="有网民在微博发布视频，称某校食堂饭菜变质，引发家长转发和议论。",
        facts=facts,
        measures_taken="已联系平台核实标注，发布情况通报，并约谈食堂承包方。",
        to_superior=True,
    )
    records.report_sign_off(report_id=report.pk, actor=people["leader"], comment="同意。请继续做好家长沟通。")
    return Report.objects.get(pk=report.pk)


def pdf_pages(doc: Any) -> int:
    """The PDF's number of pages, from a layout of its own (not timed)."""
    from weasyprint import HTML

    from reports.pdf_export import official_html

    return len(HTML(string=official_html(doc), base_url=None).render().pages)


def median_ms(export: Callable[[], bytes], runs: int) -> tuple[float, bytes]:
    content = export()  # warm-up: templates, fonts, imports
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        content = export()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings), content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="3 exports per format instead of 15")
    args = parser.parse_args()
    runs = 3 if args.quick else 15

    database_check()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    print(f"database: {settings.DATABASES['default']['NAME']} (migrated in {time.perf_counter() - started:.1f} s)")
    report = seed()

    from incidents.models import Report, TimelineEntry
    from reports.documents import written_report_document
    from reports.docx_export import official_docx
    from reports.pdf_export import official_pdf

    def exported(render: Callable[[Any], bytes]) -> Callable[[], bytes]:
        def run() -> bytes:
            fresh = Report.objects.select_related("incident__organization__parent", "reported_by", "signed_off_by").get(
                pk=report.pk
            )
            content = render(written_report_document(fresh))
            Path(WORK, "out").write_bytes(content)
            return content

        return run

    entries = TimelineEntry.objects.filter(incident_id=report.incident_id).count()
    docx_ms, docx = median_ms(exported(official_docx), runs)
    pdf_ms, pdf = median_ms(exported(official_pdf), runs)
    pages = pdf_pages(written_report_document(report))
    print(f"incident {report.incident}: {entries} timeline entries; exports per format: {runs} (median)")
    print(f"  docx {docx_ms:8.1f} ms  {len(docx) / 1024:7.1f} KiB")
    print(f"  pdf  {pdf_ms:8.1f} ms  {len(pdf) / 1024:7.1f} KiB  {pages} pages")
    met = "yes" if pdf_ms < GOAL_PDF_MS else "no"
    print(f"docx_ms={docx_ms:.1f} pdf_ms={pdf_ms:.1f} pages={pages} goal_pdf_ms={GOAL_PDF_MS} met={met}")


if __name__ == "__main__":
    main()
