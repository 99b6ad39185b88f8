"""The assessment page's form: every scale's raw inputs, and a formset of scarred sites."""

from __future__ import annotations

from django import forms

from scarrx.assessments import scales
from scarrx.assessments.models import (
    AssessmentSite,
    Cause,
    Classification,
    Morphology,
    ScarAssessment,
    Timepoint,
)
from scarrx.assessments.services import MAX_SITES
from scarrx.body import Site

DATE = forms.DateInput(attrs={"type": "date"})


def _choices(mapping: dict[int, str], blank: str = "—") -> list[tuple[str, str]]:
    return [("", blank)] + [(str(k), f"{k} — {v}") for k, v in mapping.items()]


def _count(label: str) -> forms.IntegerField:
    return forms.IntegerField(
        label=label, required=False, min_value=0, widget=forms.NumberInput(attrs={"min": 0})
    )


class AssessmentForm(forms.Form):
    assessed_on = forms.DateField(widget=DATE)
    timepoint = forms.ChoiceField(choices=Timepoint.choices)
    classification = forms.ChoiceField(
        choices=Classification.choices, label="Overall classification"
    )
    morphology = forms.MultipleChoiceField(
        choices=Morphology.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    gb_no_scarring = forms.BooleanField(required=False, label="No scarring")
    gb_qualitative = forms.TypedChoiceField(
        choices=_choices(scales.GB_QUALITATIVE_GRADES),
        coerce=int,
        empty_value=None,
        required=False,
        label="Goodman & Baron qualitative grade",
    )
    # Any number parses; its range and precision are the service's (as for the API).
    gb_d2_area_cm2 = forms.DecimalField(
        required=False,
        label="D2 hypertrophic/keloid area (cm²)",
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "inputmode": "decimal"}),
    )
    ecca_elastolysis = forms.TypedChoiceField(
        choices=_choices(scales.ECCA_GRADES),
        coerce=int,
        empty_value=None,
        required=False,
        label=scales.ECCA_ITEMS["elastolysis"][0].capitalize() + " (grade)",
    )
    bother = forms.TypedChoiceField(
        choices=[("", "—")] + [(str(i), str(i)) for i in range(11)],
        coerce=int,
        empty_value=None,
        required=False,
        label="How much do the scars bother the patient? (0 not at all – 10 extremely)",
    )
    global_impression = forms.TypedChoiceField(
        choices=_choices(scales.GLOBAL_IMPRESSION),
        coerce=int,
        empty_value=None,
        required=False,
        label="Patient's impression of change since starting (follow-ups only)",
    )
    notes = ScarAssessment._meta.get_field("notes").formfield(
        required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, (label, base) in scales.GB_QUANT_TYPES.items():
            self.fields[f"gb_{key}"] = _count(f"{key} — {label} (×{base})")
        for key in scales.ECCA_COUNTED:
            label, weight = scales.ECCA_ITEMS[key]
            self.fields[f"ecca_{key}"] = _count(f"ECCA {label} (×{weight}): count")
            # Either the count (the grade is derived) or the grade itself, as the API allows.
            self.fields[f"ecca_{key}_grade"] = forms.TypedChoiceField(
                choices=_choices(scales.ECCA_GRADES),
                coerce=int,
                empty_value=None,
                required=False,
                label=f"ECCA {label}: grade",
            )
        for region in scales.SCAR_S_REGIONS:
            self.fields[f"scar_s_{region}"] = forms.TypedChoiceField(
                choices=_choices(scales.SCAR_S_CATEGORIES, "not graded"),
                coerce=int,
                empty_value=None,
                required=False,
                label=f"SCAR-S {region}",
            )

    def gb_fields(self):
        return [self[f"gb_{k}"] for k in scales.GB_QUANT_TYPES]

    def ecca_rows(self):
        """(item label and weight, count field or None, grade field) per ECCA item."""
        rows = [
            (scales.ECCA_ITEMS[k], self[f"ecca_{k}"], self[f"ecca_{k}_grade"])
            for k in scales.ECCA_COUNTED
        ]
        return rows + [(scales.ECCA_ITEMS["elastolysis"], None, self["ecca_elastolysis"])]

    def scar_s_fields(self):
        return [self[f"scar_s_{r}"] for r in scales.SCAR_S_REGIONS]

    def service_fields(self) -> dict:
        d = self.cleaned_data
        ecca = {}
        for k in scales.ECCA_COUNTED:
            given = {"count": d[f"ecca_{k}"], "grade": d[f"ecca_{k}_grade"]}
            given = {name: v for name, v in given.items() if v is not None}
            if given:  # both at once is refused by the service, naming the item
                ecca[k] = given
        if d["ecca_elastolysis"] is not None:
            ecca["elastolysis"] = {"grade": d["ecca_elastolysis"]}
        return {
            "assessed_on": d["assessed_on"],
            "timepoint": d["timepoint"],
            "classification": d["classification"],
            "morphology": d["morphology"],
            "gb_no_scarring": d["gb_no_scarring"],
            "gb_qualitative": d["gb_qualitative"],
            "gb_counts": {
                k: d[f"gb_{k}"] for k in scales.GB_QUANT_TYPES if d[f"gb_{k}"] is not None
            },
            "gb_d2_area_cm2": d["gb_d2_area_cm2"],
            "ecca_inputs": ecca,
            "scar_s": {
                r: d[f"scar_s_{r}"] for r in scales.SCAR_S_REGIONS if d[f"scar_s_{r}"] is not None
            },
            "bother": d["bother"],
            "global_impression": d["global_impression"],
            "notes": d["notes"],
        }

    @classmethod
    def initial_from(cls, inputs: dict) -> dict:
        """Form initial values from an assessment's raw inputs (for amending)."""
        initial = {k: v for k, v in inputs.items() if k in cls.base_fields}
        for key, value in inputs["gb_counts"].items():
            initial[f"gb_{key}"] = value
        for key, entry in inputs["ecca_inputs"].items():
            if key == "elastolysis":
                initial["ecca_elastolysis"] = entry.get("grade")
            elif "count" in entry:
                initial[f"ecca_{key}"] = entry["count"]
            else:
                initial[f"ecca_{key}_grade"] = entry.get("grade")
        for region, grade in inputs["scar_s"].items():
            initial[f"scar_s_{region}"] = grade
        return initial


def field_for(service_name: str) -> str:
    """Service error key → form field name ("gb_counts.B1" → "gb_B1")."""
    head, _, item = service_name.partition(".")
    return {
        "gb_counts": f"gb_{item}",
        "ecca_inputs": f"ecca_{item}",
        "scar_s": f"scar_s_{item}",
    }.get(head, service_name)


def _vss(item: str) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        choices=_choices(scales.VSS_ITEMS[item]),
        coerce=int,
        empty_value=None,
        required=False,
        label=f"VSS {item}",
    )


class SiteForm(forms.Form):
    site = forms.ChoiceField(choices=[("", "—")] + Site.choices, required=False)
    cause = forms.ChoiceField(choices=[("", "—")] + Cause.choices, required=False)
    scar_age_years = forms.DecimalField(
        required=False,
        label="Scar age (years)",
        widget=forms.NumberInput(attrs={"step": "any", "min": 0, "inputmode": "decimal"}),
    )
    vss_pigmentation = _vss("pigmentation")
    vss_vascularity = _vss("vascularity")
    vss_pliability = _vss("pliability")
    vss_height = _vss("height")
    notes = AssessmentSite._meta.get_field("notes").formfield(required=False)

    def clean(self):
        data = super().clean()
        if any(v not in (None, "") for k, v in data.items() if k not in ("site", "cause")):
            if not data.get("site"):
                self.add_error("site", "Choose the site for this row.")
            if not data.get("cause"):
                self.add_error("cause", "Choose the cause for this row.")
        elif bool(data.get("site")) != bool(data.get("cause")):
            missing = "cause" if data.get("site") else "site"
            self.add_error(missing, f"Choose the {missing} for this row.")
        return data

    def is_blank(self) -> bool:
        return not self.cleaned_data.get("site")

    def shows_vss(self) -> bool:
        """Open the row's Vancouver items when any is scored or refused."""
        names = [f"vss_{k}" for k in scales.VSS_ITEMS]
        return any(self[n].value() not in (None, "") or self[n].errors for n in names)


class SiteRows(forms.BaseFormSet):
    """The site rows: as many as needed, added and removed on the page (sites.js; without
    JavaScript, "Add a site" posts the form back with one more row and "Remove" is a
    checkbox). How many sites is the service's limit (MAX_SITES); the formset only
    bounds how many rows it reads, blank and removed ones included."""

    default_error_messages = {"too_many_forms": f"Record at most {MAX_SITES} sites."}

    def filled(self) -> list[SiteForm]:
        """The rows that record a site: not blank, not removed (in the service's order)."""
        return [
            f
            for f in self.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE") and not f.is_blank()
        ]


ROWS_READ = 2 * MAX_SITES


def site_formset(data=None, initial=None, *, extra: int | None = None):
    rows = list(initial or [])
    formset_cls = forms.formset_factory(
        SiteForm,
        formset=SiteRows,
        extra=(1 if rows else 3) if extra is None else extra,
        max_num=ROWS_READ,
        absolute_max=ROWS_READ,
        can_delete=True,
    )
    return formset_cls(data, initial=rows or None, prefix="sites")


def sites_from(formset: SiteRows) -> list[dict]:
    return [{k: v for k, v in f.cleaned_data.items() if k != "DELETE"} for f in formset.filled()]


def as_posted(form) -> dict:
    """A bound form's values as typed, without validating them: to show it again."""
    return {name: form[name].value() for name in form.fields}


def with_another_row(data) -> tuple[AssessmentForm, SiteRows]:
    """The posted assessment shown again, unsaved and without errors, with one more
    site row and without the rows marked removed (the no-JavaScript "Add a site")."""
    posted = site_formset(data)
    rows = [as_posted(f) for f in posted.forms]
    kept = [{k: v for k, v in r.items() if k != "DELETE"} for r in rows if not r.get("DELETE")]
    return AssessmentForm(initial=as_posted(AssessmentForm(data))), site_formset(
        initial=kept, extra=1
    )


class GbDecisionAidForm(forms.Form):
    """The Goodman & Baron decision-aid questions; answers suggest a grade."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, question in scales.GB_QUALITATIVE_QUESTIONS:
            self.fields[name] = forms.BooleanField(required=False, label=question)
