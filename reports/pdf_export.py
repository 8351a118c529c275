"""An official document as a PDF laid out after GB/T 9704, rendered by WeasyPrint from
templates/reports/official_document.html with the machine's own CJK fonts (Debian fonts-noto-cjk),
embedded in the file. Nothing is fetched: the page names no resource and every URL is refused."""

import logging

from django.template.loader import render_to_string

from reports.official import OfficialDocument

# WeasyPrint logs each rendering step at INFO; our log keeps its warnings and errors only.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)


def official_html(doc: OfficialDocument) -> str:
    return render_to_string("reports/official_document.html", {"doc": doc})


def official_pdf(doc: OfficialDocument) -> bytes:
    """The PDF of the document, as bytes; any WeasyPrint error propagates to the caller."""
    # Imported here: a machine without Pango loses the PDF export, not every page of the site.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    refuse_all = URLFetcher(allowed_protocols=())  # no scheme allowed: no network, no local files
    html = HTML(string=official_html(doc), base_url=None, url_fetcher=refuse_all)
    return bytes(html.write_pdf())
