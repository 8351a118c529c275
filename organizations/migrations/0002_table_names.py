"""The moved tables take this app's names (the only database change of the move)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("organizations", "0001_initial"),
        ("incidents", "0005_units_move_to_organizations"),
    ]

    operations = [
        migrations.AlterModelTable(name="organization", table=None),
        migrations.AlterModelTable(name="membership", table=None),
        migrations.AlterModelTable(name="responsegroup", table=None),
        migrations.AlterModelTable(name="groupmember", table=None),
    ]
