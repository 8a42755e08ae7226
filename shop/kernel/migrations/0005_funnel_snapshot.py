from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("kernel", "0004_outbox_request_id"),
    ]

    operations = [
        migrations.CreateModel(
            name="FunnelSnapshot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("taken_at", models.DateTimeField(db_index=True)),
                ("source", models.CharField(max_length=500)),
                (
                    "totals",
                    models.JSONField(help_text='{"step|outcome": count}: the cumulative counters then.'),
                ),
            ],
        ),
    ]
