"""信息检索 and 信息导入 (monitoring.views.posts)."""

from django.urls import path

from monitoring.views import posts

urlpatterns = [
    path("posts/", posts.posts, name="posts"),
    path("posts/<int:pk>/attach/", posts.post_attach, name="post_attach"),
    path("posts/import/", posts.posts_import, name="posts_import"),
]
