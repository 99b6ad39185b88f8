import math

from django import forms

from scarrx.audit.models import ChangeRecord
from scarrx.body import Site
from scarrx.forms import WallClockField
from scarrx.photos.models import View


def chart_choices() -> list[tuple[str, str]]:
    from django.conf import settings

    from scarrx.imaging.charts import CHARTS

    ours = settings.PHOTO_CHART["name"]
    return [
        ("", f"The pharmacy's chart ({ours})"),
        *((key, model.name) for key, model in CHARTS.items()),
        ("custom", "Another size (give it in millimetres)"),
    ]


class ChartChoice(forms.Form):
    """Which card is in the photo: a preset, or a custom geometry in millimetres."""

    chart = forms.ChoiceField(required=False, label="Colour chart in the photo")
    chart_pitch_mm = forms.DecimalField(
        required=False, label="Patch pitch (mm, centre to centre)", max_digits=6, decimal_places=2
    )
    chart_patch_mm = forms.DecimalField(
        required=False, label="Patch side (mm)", max_digits=6, decimal_places=2
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["chart"].choices = chart_choices()

    def chart_spec(self):
        """What the service takes: None (the pharmacy's), a preset name, or a mapping."""
        chosen = self.cleaned_data.get("chart") or None
        if chosen != "custom":
            return chosen
        return {
            "name": "custom",
            "pitch_mm": self.cleaned_data.get("chart_pitch_mm"),
            "patch_mm": self.cleaned_data.get("chart_patch_mm"),
        }


class ChartForm(ChartChoice):
    reason = forms.CharField(max_length=300, label="Why the chart is corrected")


class UploadForm(ChartChoice):
    file = forms.FileField(
        label="Photo (JPEG, PNG or HEIC)",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/heic,.heic"}),
    )
    site = forms.ChoiceField(choices=Site.choices)
    view = forms.ChoiceField(choices=View.choices)
    taken_at = WallClockField(required=False, label="Taken at (if the photo does not say)")
    assessment = forms.ChoiceField(choices=[("", "—")], required=False)

    def __init__(self, *args, assessments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessment"].choices = [("", "— none —")] + [
            (str(a.public_id), f"{a.get_timepoint_display()} · {a.assessed_on:%-d %b %Y}")
            for a in assessments
        ]
        self._assessments = {str(a.public_id): a for a in assessments}

    def chosen_assessment(self):
        return self._assessments.get(self.cleaned_data.get("assessment") or "")


def parse_points(raw: str) -> list[list[float]]:
    """'X,Y X,Y X,Y' → [[x, y], ...]; ValueError with a plain message otherwise. How many
    points a region or the chart needs is the service's to say."""
    points = []
    for pair in (raw or "").split():
        try:
            x, y = (float(v) for v in pair.split(","))
        except ValueError:
            raise ValueError(f"{pair!r} is not a point like 120,340.") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"{pair!r} is not a point like 120,340.")
        points.append([x, y])
    return points


class RegionsForm(forms.Form):
    roi = forms.CharField(widget=forms.HiddenInput, label="Scar region")
    reference = forms.CharField(widget=forms.HiddenInput, label="Reference skin region")

    def clean(self):
        data = super().clean()
        for name in ("roi", "reference"):
            if name in data:
                try:
                    data[name] = parse_points(data[name])
                except ValueError as exc:
                    self.add_error(name, str(exc))
        return data


class CornersForm(forms.Form):
    corners = forms.CharField(widget=forms.HiddenInput, label="Chart corners")
    # Required by the service when the photo is already calibrated.
    reason = ChangeRecord._meta.get_field("reason").formfield(
        required=False, label="Reason for the change", widget=forms.TextInput
    )

    def clean_corners(self):
        try:
            return parse_points(self.cleaned_data["corners"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
