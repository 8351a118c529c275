"""The written report as a PDF laid out after GB/T 9704, rendered by WeasyPrint from
templates/reports/written_report.html with the machine's own CJK fonts (Debian fonts-noto-cjk),
embedded in the file. Nothing is fetched: the page names no resource and every URL is refused."""

import logging

from django.template.loader import render_to_string

from reports.documents import WrittenReportDocument

# WeasyPrint logs each rendering step at INFO; our log keeps its warnings and errors only.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def written_report_html(doc: WrittenReportDocument) -> str:
    return render_to_string("reports/written_report.html", {"doc": doc})


def written_report_pdf(doc: WrittenReportDocument) -> bytes:
    """The PDF of the document, as bytes; any WeasyPrint error propagates to the caller."""
    # Imported here: a machine without Pango loses the PDF export, not every page of the site.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    refuse_all = URLFetcher(allowed_protocols=())  # no scheme allowed: no network, no local files
    html = HTML(string=written_report_html(doc), base_url=None, url_fetcher=refuse_all)
    return bytes(html.write_pdf())
