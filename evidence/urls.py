from django.urls import path

from evidence import views

app_name = "evidence"
urlpatterns = [
    path("incidents/<int:pk>/upload/", views.evidence_upload, name="upload"),
    path("<int:pk>/download/", views.evidence_download, name="download"),
    path("<int:pk>/thumbnail/", views.evidence_thumbnail, name="thumbnail"),
    path("<int:pk>/withdraw/", views.evidence_withdraw_view, name="withdraw"),
]
