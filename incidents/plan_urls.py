"""单位设置 → 应急预案, mounted at unit/plans/ (namespace unit_plans). Every route names a version by
`pk` only; the part a form edits travels in the form (kind and part), checked against that version."""

from django.urls import path

from incidents.views import plans

app_name = "unit_plans"

urlpatterns = [
    path("", plans.plan_list, name="list"),
    path("<int:pk>/", plans.plan_detail, name="detail"),
    path("<int:pk>/revise/", plans.plan_revise, name="revise"),
    path("<int:pk>/header/", plans.plan_header_save, name="header"),
    path("<int:pk>/parts/", plans.plan_part_save, name="part_save"),
    path("<int:pk>/parts/delete/", plans.plan_part_delete, name="part_delete"),
    path("<int:pk>/compare/", plans.plan_compare, name="compare"),
    path("<int:pk>/activate/", plans.plan_activate, name="activate"),
    path("<int:pk>/delete/", plans.plan_draft_delete, name="delete"),
    path("from-review/<int:review_pk>/", plans.plan_revise_from_review, name="from_review"),
]
