from django.urls import path

from incidents.views import actions, dashboard, detail, statements, superior
from incidents.views import list as incident_list

urlpatterns = [
    path("", dashboard.dashboard, name="home"),
    path("dashboard/live/", dashboard.dashboard_live, name="dashboard_live"),
    path("dashboard/stats/", dashboard.dashboard_stats, name="dashboard_stats"),
    path("incidents/", incident_list.incident_list, name="incident_list"),
    path("incidents/new/", incident_list.incident_new, name="incident_new"),
    path("incidents/export/", incident_list.incident_export, name="incident_export"),
    path("incidents/superior/", superior.superior_incidents, name="superior_incidents"),
    path("incidents/superior/reports/<int:report_id>/receive/", superior.report_receive, name="report_receive"),
    path("incidents/<int:pk>/", detail.incident_detail, name="incident_detail"),
    path("incidents/<int:pk>/act/<slug:action>/", actions.incident_act, name="incident_act"),
    path("incidents/<int:pk>/comments/", actions.comment_add, name="incident_comment"),
    path("statements/<int:pk>/", statements.statement_detail, name="statement_detail"),
    path("statements/<int:pk>/<slug:op>/", statements.statement_op, name="statement_op"),
]
