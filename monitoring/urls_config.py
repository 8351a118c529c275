"""Filled in by the config pages."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
