"""Filled in by the alerts pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
