"""`manage.py posts_reindex [--unit CODE]`: give full-text search the words of posts that have none
yet (posts kept from before search existed, after an upgrade); monitoring.search.posts_reindex does it."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.search import posts_reindex
from organizations.models import Organization


class Command(BaseCommand):
    help = "Fill the search words of posts that lack them (full-text search)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", metavar="CODE", help="only the posts of the unit with this code")

    def handle(self, *args: Any, **options: Any) -> None:
        organization_id = None
        if options["unit"]:
            organization_id = Organization.objects.filter(code=options["unit"]).values_list("pk", flat=True).first()
            if organization_id is None:
                raise CommandError(f"no unit with code {options['unit']!r}")
        count = posts_reindex(organization_id=organization_id)
        self.stdout.write(f"{count} posts indexed for search")
