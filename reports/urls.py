"""Written reports and monitoring reports as official documents, mounted at reports/ (namespace reports)."""

from django.urls import path

from reports import monitoring_views, views

app_name = "reports"

urlpatterns = [
    path("<int:report_pk>/written.docx", views.written_docx, name="written_docx"),
    path("<int:report_pk>/written.pdf", views.written_pdf, name="written_pdf"),
    # 舆情日报、周报、月报、专报
    path("monitoring/", monitoring_views.monitoring_list, name="monitoring_list"),
    path("monitoring/new/", monitoring_views.monitoring_new, name="monitoring_new"),
    path("monitoring/schedules/", monitoring_views.schedules, name="schedules"),
    path("monitoring/<int:pk>/", monitoring_views.monitoring_detail, name="monitoring_detail"),
    path("monitoring/<int:pk>/report.docx", monitoring_views.monitoring_docx, name="monitoring_docx"),
    path("monitoring/<int:pk>/report.pdf", monitoring_views.monitoring_pdf, name="monitoring_pdf"),
]
