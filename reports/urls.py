"""Written reports as official documents, mounted at reports/ (namespace reports)."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("<int:report_pk>/written.docx", views.written_docx, name="written_docx"),
    path("<int:report_pk>/written.pdf", views.written_pdf, name="written_pdf"),
]
