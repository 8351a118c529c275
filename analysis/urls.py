from django.urls import URLPattern, path

from analysis import views

app_name = "analysis"
urlpatterns: list[URLPattern] = [
    path("", views.clusters, name="clusters"),
    path("clusters/<int:pk>/", views.cluster_detail, name="cluster_detail"),
    path("labels/", views.labels, name="labels"),
    path("posts/<int:pk>/label/", views.post_label, name="post_label"),
    path("model/", views.model, name="model"),
    path("model/<int:pk>/", views.model_detail, name="model_detail"),
    path("model/train/", views.model_train, name="model_train"),
    path("model/rollback/", views.model_rollback, name="model_rollback"),
    path("model/risk-words/", views.risk_words, name="risk_words"),
    path("schemes/", views.schemes, name="schemes"),
    path("schemes/<int:pk>/", views.scheme_detail, name="scheme_detail"),
]
