"""A unit's webhook subscriptions, their deliveries and attempt logs move into the one outbox:
each subscription becomes a signed-webhook channel of the unit, each delivery a Delivery row."""

from django.db import migrations

# The event names a subscription could hold when this migration was written.
KNOWN_EVENTS = {
    "incident.created",
    "incident.updated",
    "incident.transitioned",
    "incident.level_changed",
    "incident.escalated",
    "deadline.reminder",
    "deadline.missed",
    "deadline.escalated",
    "deadline.acknowledged",
    "deadline.met",
    "deadline.waived",
    "deadline.closed",
    "deadline.confirmed",
    "statement.submitted",
    "statement.approved",
    "statement.rejected",
    "statement.published",
    "report.recorded",
    "task.assigned",
}
STATUS = {"pending": "pending", "delivered": "sent", "failed": "dead"}


def copy_webhooks(apps, schema_editor):
    subscription_model = apps.get_model("integrations", "WebhookSubscription")
    old_delivery_model = apps.get_model("integrations", "WebhookDelivery")
    old_attempt_model = apps.get_model("integrations", "WebhookAttempt")
    channel_model = apps.get_model("notifications", "NotificationChannel")
    delivery_model = apps.get_model("notifications", "Delivery")
    attempt_model = apps.get_model("notifications", "DeliveryAttempt")
    channel_for = {}
    for subscription in subscription_model.objects.order_by("id"):
        channel = channel_model.objects.create(
            organization_id=subscription.organization_id,
            kind="signed_webhook",
            name=subscription.name,
            target=subscription.target_url,
            secret=subscription.secret,
            events=sorted(e for e in subscription.events if e in KNOWN_EVENTS),
            enabled=subscription.is_active,
            created_by_id=subscription.created_by_id,
        )
        channel_model.objects.filter(pk=channel.pk).update(created_at=subscription.created_at)
        channel_for[subscription.pk] = channel.pk
    for old in old_delivery_model.objects.order_by("id"):
        channel_id = channel_for[old.subscription_id]
        delivery = delivery_model.objects.create(
            channel_id=channel_id,
            kind=old.event,
            title=old.event,
            payload=old.payload,
            event_id=old.event_id,
            idempotency_key=f"webhook:{old.event_id}:c{channel_id}",
            status=STATUS.get(old.status, "dead"),
            attempts=old.attempts,
            next_attempt_at=old.next_attempt_at if old.status == "pending" else None,
            last_error=old.last_error,
            last_response_status=old.last_response_status,
            sent_at=old.delivered_at,
        )
        delivery_model.objects.filter(pk=delivery.pk).update(created_at=old.created_at)
        attempt_model.objects.bulk_create(
            [
                attempt_model(
                    delivery_id=delivery.pk,
                    number=attempt.number,
                    started_at=attempt.attempted_at,
                    duration_ms=attempt.duration_ms,
                    ok=not attempt.error,
                    error=attempt.error,
                    response_status=attempt.response_status,
                    response_body=attempt.response_body,
                )
                for attempt in old_attempt_model.objects.filter(delivery_id=old.pk).order_by("number", "id")
            ]
        )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_one_outbox"),
        ("integrations", "0002_organization_in_organizations"),
    ]

    operations = [migrations.RunPython(copy_webhooks, migrations.RunPython.noop)]
