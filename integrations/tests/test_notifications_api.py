"""The notification centre over the API shows and marks only the caller's own notifications."""

from integrations.testing import ApiTestCase
from notifications.models import Notification


class NotificationApiTests(ApiTestCase):
    def test_it_lists_and_marks_only_the_callers_notifications(self) -> None:
        mine = Notification.objects.create(
            recipient=self.bob, kind="deadline", title="口头报告即将到期", idempotency_key="a"
        )
        theirs = Notification.objects.create(recipient=self.ann, kind="deadline", title="别人的", idempotency_key="b")
        client = self.client_for(self.bob)
        rows = client.get("/api/v1/notifications/?unread=true").json()["results"]
        self.assertEqual([row["id"] for row in rows], [mine.pk])
        self.assertError(client.post(f"/api/v1/notifications/{theirs.pk}/read/"), 404, "not_found")
        self.assertIsNotNone(client.post(f"/api/v1/notifications/{mine.pk}/read/").json()["read_at"])
        self.assertEqual(client.get("/api/v1/notifications/?unread=true").json()["count"], 0)
        self.assertIsNone(Notification.objects.get(pk=theirs.pk).read_at)
        self.assertEqual(self.client_for(self.ann).post("/api/v1/notifications/read-all/").json(), {"marked": 1})
