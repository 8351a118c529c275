"""Domain events: row-writing listeners commit with the change; a failing listener breaks nothing."""

from typing import Any

from incidents import events
from incidents.models import Incident
from incidents.services import incidents as svc
from incidents.services import statements as st
from opinion_ops.testing import BaseTestCase


class EventTests(BaseTestCase):
    def test_notifications_are_written_in_the_same_transaction_as_the_change(self) -> None:
        from notifications.models import Notification

        incident = self.log_incident()
        svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        statement = st.statement_create(incident_id=incident.pk, actor=self.sara, title="情况通报", text="经核查……")
        # No on-commit callback has run in this test: the notification exists because it was
        # written inside the submit's own transaction.
        st.statement_submit(statement_id=statement.pk, actor=self.sara)
        self.assertTrue(Notification.objects.filter(recipient=self.alice, kind=events.STATEMENT_SUBMITTED).exists())

    def test_a_failing_listener_neither_undoes_the_change_nor_stops_the_others(self) -> None:
        seen: list[str] = []

        def broken(event: str, payload: dict[str, Any]) -> None:
            Incident.objects.filter(pk=payload["incident_id"]).update(title="被监听器改坏")
            raise RuntimeError("listener bug")

        def working(event: str, payload: dict[str, Any]) -> None:
            seen.append(event)

        events.subscribe(events.INCIDENT_TRANSITIONED, broken, in_transaction=True)
        events.subscribe(events.INCIDENT_TRANSITIONED, working, in_transaction=True)
        try:
            incident = self.log_incident(title="原标题")
            with self.assertLogs("incidents.events", "ERROR"):
                svc.incident_start_assessment(incident_id=incident.pk, actor=self.ann)
        finally:
            events._in_transaction[events.INCIDENT_TRANSITIONED].remove(broken)
            events._in_transaction[events.INCIDENT_TRANSITIONED].remove(working)
        incident.refresh_from_db()
        self.assertEqual(incident.state, "assessing")
        self.assertEqual(incident.title, "原标题")  # the broken listener's own write was rolled back
        self.assertEqual(seen, [events.INCIDENT_TRANSITIONED])

    def test_after_commit_listeners_wait_for_the_commit(self) -> None:
        seen: list[str] = []
        events.subscribe(events.INCIDENT_CREATED, lambda event, payload: seen.append(event))
        try:
            with self.captureOnCommitCallbacks(execute=False) as callbacks:
                self.log_incident()
            self.assertEqual(seen, [])
            for callback in callbacks:
                callback()
            self.assertEqual(seen, [events.INCIDENT_CREATED])
        finally:
            events._listeners[events.INCIDENT_CREATED].pop()
