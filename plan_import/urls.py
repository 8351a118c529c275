"""单位设置 → 应急预案 → 从文件导入, mounted at unit/plans/import/ (namespace plan_import). Routes name
an import by `pk` only; the item an edit is for travels in the form (index), checked against it."""

from django.urls import path

from plan_import import views

app_name = "plan_import"

urlpatterns = [
    path("", views.import_start, name="start"),
    path("<int:pk>/", views.import_review, name="review"),
    path("<int:pk>/item/", views.import_item, name="item"),
    path("<int:pk>/draft/", views.import_draft, name="draft"),
    path("<int:pk>/discard/", views.import_discard, name="discard"),
]
