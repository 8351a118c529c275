"""Webhook subscriptions and deliveries now live in the one outbox (notifications.0004 copied them);
idempotency records belong to the API platform (a day's worth of retry keys is not carried over)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_organization_in_organizations"),
        ("notifications", "0004_webhooks_into_outbox"),
    ]

    operations = [
        migrations.DeleteModel(name="WebhookAttempt"),
        migrations.DeleteModel(name="WebhookDelivery"),
        migrations.DeleteModel(name="WebhookSubscription"),
        migrations.DeleteModel(name="IdempotencyRecord"),
    ]
