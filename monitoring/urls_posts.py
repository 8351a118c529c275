"""Filled in by the posts pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
