from django.urls import path

from organizations import views

app_name = "unit"

urlpatterns = [
    path("", views.unit_index, name="index"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/", views.member, name="member"),
    path("members/<int:pk>/password/", views.member_password, name="member_password"),
    path("groups/", views.groups, name="groups"),
    path("groups/<int:pk>/", views.group, name="group"),
    path("groups/<int:pk>/members/", views.group_member_set, name="group_member_set"),
    path("groups/<int:pk>/members/<int:user_id>/remove/", views.group_member_remove, name="group_member_remove"),
    path("groups/<int:pk>/delete/", views.group_delete, name="group_delete"),
    path("audit/", views.audit, name="audit"),
]
