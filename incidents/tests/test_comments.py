"""The discussion on an incident (讨论): comments posted from the page and the API, @mentions that
tell the person named, and an @ of someone outside the unit refused next to the field with the
text kept and nothing saved."""

from typing import Any
from unittest import mock

from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from incidents.integrity import incident_record_verify
from incidents.models import Comment, Incident, TimelineEntry
from incidents.services import incidents as svc
from incidents.services.comments import comment_create
from integrations.testing import ApiTestCase
from notifications.models import Notification
from opinion_ops.errors import DomainError, NotPermitted
from opinion_ops.testing import PASSWORD, BaseTestCase, sign_in


class CommentTestCase(BaseTestCase):
    def setUp(self) -> None:
        dispatch = mock.patch("notifications.services.deliveries_dispatch")  # no channel sends in these tests
        dispatch.start()
        self.addCleanup(dispatch.stop)

    def login(self, user: Any) -> None:
        self.client.logout()
        self.assertTrue(sign_in(self.client, user.username, PASSWORD))

    def post(self, incident: Incident, body: str) -> Any:
        return self.client.post(reverse("incident_comment", args=[incident.pk]), {"comment-body": body})

    def told(self, user: Any) -> list[Notification]:
        return list(Notification.objects.filter(recipient=user, kind="comment.posted"))


class PageTests(CommentTestCase):
    def test_a_comment_with_mentions_is_shown_and_tells_each_person_named(self) -> None:
        incident = self.log_incident()
        self.login(self.ann)
        with self.captureOnCommitCallbacks(execute=True):
            response = self.post(incident, "@Alice 请审阅研判意见，@olga 请准备口头报告。")
        self.assertEqual(response.status_code, 302)
        page = self.client.get(reverse("incident_detail", args=[incident.pk]))
        self.assertContains(page, "请审阅研判意见")
        comment = Comment.objects.get(incident=incident)
        self.assertEqual(comment.mentioned, [self.alice.pk, self.olga.pk])
        for person in (self.alice, self.olga):
            notes = self.told(person)
            self.assertEqual(len(notes), 1, person.username)
            self.assertIn("请审阅研判意见", notes[0].body)
            self.assertIn(incident.reference, notes[0].title + notes[0].body)
        self.assertEqual(self.told(self.ann), [])  # the author is not told of their own comment
        self.assertEqual(self.told(self.bob), [])  # nor anyone not named

    def test_an_outsider_named_is_refused_next_to_the_field_and_the_text_kept(self) -> None:
        incident = self.log_incident()
        self.login(self.ann)
        response = self.post(incident, "@charlie 请协助核实")
        self.assertContains(response, "无法提及“@charlie”", status_code=400)
        self.assertContains(response, "@charlie 请协助核实</textarea>", status_code=400)
        self.assertFalse(Comment.objects.filter(incident=incident).exists())
        self.assertFalse(TimelineEntry.objects.filter(incident=incident, kind="comment").exists())
        self.assertEqual(Notification.objects.filter(kind="comment.posted").count(), 0)

    def test_an_empty_comment_is_refused_next_to_the_field(self) -> None:
        incident = self.log_incident()
        self.login(self.ann)
        response = self.post(incident, "   ")
        self.assertEqual(response.status_code, 400)
        self.assertFalse(Comment.objects.exists())

    def test_someone_outside_the_working_groups_has_no_form_and_is_refused(self) -> None:
        incident = self.log_incident()
        self.login(self.nina)  # in the unit, in no group
        self.assertIsNone(self.client.get(reverse("incident_detail", args=[incident.pk])).context["comment_form"])
        self.assertEqual(self.post(incident, "我也说两句").status_code, 403)
        self.login(self.charlie)  # another unit: the incident does not exist for them
        self.assertEqual(self.post(incident, "路过").status_code, 404)
        self.assertFalse(Comment.objects.exists())


class ServiceTests(CommentTestCase):
    def test_the_superior_leadership_may_be_named_once_the_incident_is_reported_up(self) -> None:
        incident = self.log_incident()
        with self.assertRaises(DomainError) as refused:
            comment_create(incident_id=incident.pk, actor=self.ann, body="@sam 请指示")
        self.assertEqual(refused.exception.field, "body")
        svc.incident_escalate(incident_id=incident.pk, actor=self.alice, note="报市局")
        with self.captureOnCommitCallbacks(execute=True):
            comment_create(incident_id=incident.pk, actor=self.ann, body="@sam 请指示")
        self.assertEqual(len(self.told(self.sam)), 1)
        with self.captureOnCommitCallbacks(execute=True):
            comment_create(incident_id=incident.pk, actor=self.sam, body="同意处置方案。@ann")
        self.assertEqual(len(self.told(self.ann)), 1)

    def test_a_comment_joins_the_hash_chained_record_and_cannot_be_changed(self) -> None:
        incident = self.log_incident()
        comment = comment_create(incident_id=incident.pk, actor=self.ann, body="已核实首发帖")
        self.assertEqual(comment.sha256, comment.compute_hash())
        self.assertTrue(incident_record_verify(incident=incident).intact)
        if connection.vendor != "postgresql":
            return  # the append-only trigger is PostgreSQL's (opinion_ops.append_only)
        with self.assertRaises((DatabaseError, ValueError, TypeError)), transaction.atomic():
            Comment.objects.filter(pk=comment.pk).update(body="改过的内容")
        self.assertEqual(Comment.objects.get(pk=comment.pk).body, "已核实首发帖")

    def test_a_closed_incident_takes_no_more_comments(self) -> None:
        incident = self.log_incident()
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        svc.incident_dismiss(incident_id=incident.pk, actor=self.ann, reason="非舆情")
        with self.assertRaises((NotPermitted, DomainError)):
            comment_create(incident_id=incident.pk, actor=self.ann, body="补充")


class ApiTests(ApiTestCase):
    def test_the_api_lists_and_posts_comments_and_names_the_field_of_a_bad_mention(self) -> None:
        incident = self.log_incident()
        client = self.client_for(self.ann)
        url = f"/api/v1/incidents/{incident.pk}/comments/"
        refused = client.post(url, {"body": "@charlie 请看"}, format="json")
        self.assertEqual(refused.status_code, 400)
        self.assertIn("body", refused.content.decode())
        created = client.post(url, {"body": "@alice 请审阅"}, format="json")
        self.assertEqual(created.status_code, 201, created.content)
        self.assertEqual(created.json()["mentioned"], [self.alice.pk])
        listed = client.get(url).json()
        rows = listed["results"] if isinstance(listed, dict) else listed
        bodies = [row["body"] for row in rows]
        self.assertEqual(bodies, ["@alice 请审阅"])
        self.assertEqual(self.client_for(self.charlie).get(url).status_code, 404)
