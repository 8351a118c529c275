import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opinion_ops.settings")

app = Celery("opinion_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
