"""The first locked label template, from the packaged file. Later versions are made by a
pharmacist, with a reason, through scarrx.pharmacy.services.change_label_template."""

from pathlib import Path

from django.db import migrations

LABEL_V1 = Path(__file__).resolve().parents[2] / "templates" / "pharmacy" / "label_v1.html"


def first_template(apps, schema_editor):
    LabelTemplate = apps.get_model("pharmacy", "LabelTemplate")
    if not LabelTemplate.objects.exists():
        LabelTemplate.objects.create(
            version=1, body=LABEL_V1.read_text(), reason="First label template"
        )


class Migration(migrations.Migration):
    dependencies = [("pharmacy", "0001_initial")]
    operations = [migrations.RunPython(first_template, migrations.RunPython.noop)]
