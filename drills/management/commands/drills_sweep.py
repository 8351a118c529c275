"""`python manage.py drills_sweep`: run the drill sweeper once (what beat ticks every 10 s), for an
operator checking a drill that did not start, or a deployment without beat."""

from typing import Any

from django.core.management.base import BaseCommand

from drills.services import drills_sweep


class Command(BaseCommand):
    help = "Inject due drills, release their posts and score finished ones (one sweep)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = drills_sweep()
        self.stdout.write(f"advanced {result['advanced']}, failed {result['failed']}")
