"""What the analysis tests share: a unit with a scheme that matches the posts below, posts pushed
through the real ingest path and matched (which clusters and scores them through the hook)."""

from datetime import datetime
from typing import Any

from monitoring.alerts import posts_match
from monitoring.ingest import PostIn, posts_ingest, source_of_kind
from monitoring.models import KeywordScheme, Source
from opinion_ops.testing import BaseTestCase

CANTEEN = "示范区一中食堂多名学生午饭后腹泻呕吐，家长质疑学校隐瞒情况，希望有关部门尽快调查给个说法。"
FEES = "示范区一中强制学生订购教辅资料，每人三百多元，不买就被点名批评，家长敢怒不敢言。"
PRAISE = "示范区一中食堂这学期换了新菜谱，孩子说每天都吃得很开心，感谢学校用心。"


class AnalysisTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.source = source_of_kind(self.unit.pk, Source.Kind.API)
        self.other_source = source_of_kind(self.other_unit.pk, Source.Kind.API)

    def scheme(self, unit: Any = None, **fields: Any) -> KeywordScheme:
        fields.setdefault("name", "示范区一中")
        fields.setdefault("regions", "示范区")
        fields.setdefault("subjects", "一中")
        fields.setdefault("threshold_posts", 1)
        return KeywordScheme.objects.create(organization=unit or self.unit, created_by=self.bob, **fields)

    def ingest(
        self,
        *texts: str,
        source: Source | None = None,
        platform: str = "weibo",
        published_at: datetime | None = None,
        **fields: Any,
    ) -> list[int]:
        result = posts_ingest(
            source_id=(source or self.source).pk,
            posts=[PostIn(text=t, platform=platform, published_at=published_at, **fields) for t in texts],
        )
        posts_match(result.created)
        return result.created
