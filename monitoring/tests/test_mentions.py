import hashlib
from datetime import timedelta

from django.utils import timezone

from incidents.models import TimelineEntry
from monitoring.models import Mention
from monitoring.services import mention_attach, mention_create
from opinion_ops.errors import DomainError, InvalidTransition, NotPermitted
from opinion_ops.testing import BaseTestCase


class MentionTests(BaseTestCase):
    def test_it_saves_a_post_and_attaches_it_with_a_timeline_entry(self) -> None:
        incident = self.log_incident()
        mention = mention_create(
            actor=self.bob,
            platform="weibo",
            url="https://weibo.com/1/abc",
            author_handle="@网友甲",
            text="某校食堂  饭菜有问题",
            published_at=timezone.now() - timedelta(hours=1),
            incident=incident,
        )
        self.assertEqual(mention.incident, incident)
        self.assertEqual(mention.organization, self.unit)
        entry = TimelineEntry.objects.get(incident=incident, kind="mention")
        # 存证: the post as taken in stands in the hash-chained record even if it is deleted online.
        self.assertEqual(
            (entry.details["url"], entry.details["text"], entry.details["author"]),
            ("https://weibo.com/1/abc", "某校食堂  饭菜有问题", "@网友甲"),
        )
        self.assertEqual(entry.details["sha256"], hashlib.sha256("某校食堂  饭菜有问题".encode()).hexdigest())
        self.assertEqual(entry.details["fetched_at"], mention.captured_at.isoformat())

    def test_the_same_post_twice_is_refused_by_its_content_hash(self) -> None:
        mention_create(actor=self.bob, platform="weibo", url="https://weibo.com/1/abc", text="某校 食堂")
        with self.assertRaises(DomainError) as ctx:
            mention_create(actor=self.ann, platform="weibo", url="https://weibo.com/1/abc", text="某校   食堂 ")
        self.assertEqual(ctx.exception.code, "duplicate")
        self.assertEqual(Mention.objects.count(), 1)

    def test_another_unit_may_record_the_same_post(self) -> None:
        mention_create(actor=self.bob, platform="weibo", url="https://weibo.com/1/abc", text="同一条")
        mention_create(actor=self.charlie, platform="weibo", url="https://weibo.com/1/abc", text="同一条")
        self.assertEqual(Mention.objects.count(), 2)

    def test_it_refuses_bad_input_naming_the_field(self) -> None:
        for kwargs, field in [
            ({"platform": "myspace", "text": "x"}, "platform"),
            ({"platform": "weibo", "text": "  "}, "text"),
            ({"platform": "weibo", "text": "x", "published_at": timezone.now() + timedelta(days=1)}, "published_at"),
        ]:
            with self.subTest(field=field), self.assertRaises(DomainError) as ctx:
                mention_create(actor=self.bob, **kwargs)  # type: ignore[arg-type]
            self.assertEqual(ctx.exception.field, field)

    def test_it_cannot_attach_across_units(self) -> None:
        theirs = mention_create(actor=self.charlie, platform="weibo", text="邻区")
        incident = self.log_incident()
        with self.assertRaises(DomainError):
            mention_attach(mention_id=theirs.pk, incident_id=incident.pk, actor=self.bob)
        with self.assertRaises(NotPermitted):
            mention_attach(mention_id=theirs.pk, incident_id=incident.pk, actor=self.charlie)

    def test_it_cannot_attach_to_a_closed_incident(self) -> None:
        from incidents.services import incidents as svc

        incident = self.log_incident()
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.incident_dismiss(incident_id=incident.pk, actor=self.ann, reason="非舆情")
        mention = mention_create(actor=self.bob, platform="forum", text="帖子")
        with self.assertRaises(InvalidTransition):
            mention_attach(mention_id=mention.pk, incident_id=incident.pk, actor=self.bob)

    def test_a_user_without_a_role_cannot_add_posts(self) -> None:
        with self.assertRaises(NotPermitted):
            mention_create(actor=self.nina, platform="weibo", text="x")
