"""The pharmacy's console pages: formulary, balances, MFRs, preparations, the bench,
verification, labels, recalls, reports, label template and settings. Each form calls the
same service as the API; a refused form is shown again with its errors (422)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from scarrx.access import fetch, staff, visible_or_404, visible_to
from scarrx.accounts.roles import Perm
from scarrx.audit.services import record_reads
from scarrx.forms import add_service_errors, errors_text, form_status
from scarrx.pagination import console_page, record_shown
from scarrx.patients.models import Patient
from scarrx.pharmacy import forms as f
from scarrx.pharmacy import queries, services
from scarrx.pharmacy.api import label_response
from scarrx.pharmacy.labels import MANDATORY
from scarrx.pharmacy.models import (
    AT_THE_BENCH,
    Balance,
    Batch,
    BatchStatus,
    Formulation,
    Ingredient,
    IngredientLot,
    LabelTemplate,
    MfrStatus,
    PharmacySettings,
    Preparation,
    Recall,
    SafetyWarning,
)
from scarrx.photos.storage import private_jpeg, read_private
from scarrx.values import number_text

one = queries.pharmacy_record


def _done(request, text: str, to: str, **kwargs):
    messages.success(request, text)
    return redirect(to, **kwargs)


# --- home, formulary, balances, settings ---------------------------------------------------


@staff(Perm.VIEW_BATCH)
def pharmacy_home(request):
    batches = visible_to(request.user, Batch).select_related("formulation", "preparation__patient")
    lists = {
        "to_verify": list(batches.filter(status=BatchStatus.READY_FOR_REVIEW)[:20]),
        "at_bench": list(batches.filter(status__in=AT_THE_BENCH)[:20]),
        "quarantined": list(batches.filter(status=BatchStatus.QUARANTINED)[:20]),
    }
    record_shown(request, [b for shown in lists.values() for b in shown])
    return render(
        request,
        "pharmacy/home.html",
        {
            **lists,
            "expiring": queries.lots_expiring(30)[:20],
            "stock_mfrs": Formulation.objects.filter(
                status=MfrStatus.APPROVED, produces__isnull=False
            ),
        },
    )


@staff(Perm.VIEW_FORMULARY)
def ingredient_list(request):
    form = f.IngredientForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm(Perm.CHANGE_FORMULARY):
            raise Http404
        if form.is_valid():
            try:
                ingredient = services.add_ingredient(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _done(
                    request,
                    f"{ingredient} added.",
                    "ingredient-detail",
                    ingredient_id=ingredient.public_id,
                )
    page = console_page(request, Ingredient.objects.all())
    return render(
        request, "pharmacy/ingredients.html", {"page": page, "form": form}, status=form_status(form)
    )


@staff(Perm.VIEW_FORMULARY)
def ingredient_detail(request, ingredient_id):
    ingredient = one(Ingredient, ingredient_id)
    form = f.LotForm(request.POST or None)
    if request.method == "POST":
        if not request.user.has_perm(Perm.RECEIVE_LOT):
            raise Http404
        if form.is_valid():
            try:
                lot = services.receive_lot(ingredient, actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _done(
                    request,
                    f"Lot {lot.lot_number} received.",
                    "ingredient-detail",
                    ingredient_id=ingredient.public_id,
                )
    usable = set(queries.usable_lots(ingredient).values_list("pk", flat=True))
    context = {
        "ingredient": ingredient,
        "lots": ingredient.lots.all(),
        "usable": usable,
        "form": form,
        "today": timezone.localdate(),
    }
    return render(request, "pharmacy/ingredient.html", context, status=form_status(form))


@staff(Perm.CHANGE_FORMULARY)
def ingredient_edit(request, ingredient_id):
    ingredient = one(Ingredient, ingredient_id)
    form = f.IngredientEditForm(
        request.POST or None, initial=f.IngredientEditForm.initial_for(ingredient)
    )
    if request.method == "POST" and form.is_valid():
        changes = dict(form.cleaned_data)
        reason = changes.pop("reason")
        warnings = visible_to(request.user, SafetyWarning).filter(override__isnull=True)
        before = warnings.count()
        try:
            ingredient = services.update_ingredient(
                ingredient, actor=request.user, reason=reason, **changes
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            found = warnings.count() - before
            text = f"{ingredient} changed."
            if found:
                text += f" The screens found {found} new safety warning(s) on preparations."
            return _done(request, text, "ingredient-detail", ingredient_id=ingredient.public_id)
    context = {"ingredient": ingredient, "form": form}
    return render(request, "pharmacy/ingredient_edit.html", context, status=form_status(form))


@staff(Perm.VIEW_BATCH)
def balance_list(request):
    form = f.BalanceForm(request.POST or None, prefix="new")
    if request.method == "POST":
        if not request.user.has_perm(Perm.CHANGE_BALANCE):
            raise Http404
        if form.is_valid():
            try:
                services.add_balance(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _done(request, "Balance added.", "balance-list")
    settings = services.current_settings()
    balances = [
        (b, b.last_calibrated_on + timedelta(days=settings.calibration_days))
        for b in Balance.objects.filter(retired=False)
    ]
    context = {
        "balances": balances,
        "retired": Balance.objects.filter(retired=True).order_by("-retired_on", "name"),
        "form": form,
        "calibration": f.CalibrationForm(),
        "today": timezone.localdate(),
    }
    return render(request, "pharmacy/balances.html", context, status=form_status(form))


@staff(Perm.CHANGE_BALANCE)
@require_POST
def balance_calibrate(request, balance_id):
    return _on_balance(
        request, balance_id, f.CalibrationForm, services.calibrate_balance, "calibration recorded."
    )


@staff(Perm.CHANGE_BALANCE)
@require_POST
def balance_retire(request, balance_id):
    return _on_balance(
        request, balance_id, f.RetireForm, services.retire_balance, "is out of service."
    )


def _on_balance(request, balance_id, form_class, operation, done: str):
    """A balance's form posted from the balances page, back to that page either way."""
    balance = one(Balance, balance_id)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            operation(balance, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, f"{balance} {done}", "balance-list")
    messages.error(request, f"{balance}: {errors_text(form)}")
    return redirect("balance-list")


@staff(Perm.VIEW_BATCH)
def pharmacy_settings(request):
    current = services.current_settings()
    form = f.SettingsForm(
        request.POST or None,
        initial={
            "mfr_approvals": current.mfr_approvals,
            "day_counting": current.day_counting,
            "calibration_days": current.calibration_days,
        },
    )
    if request.method == "POST":
        if not request.user.has_perm(Perm.CHANGE_PHARMACY_SETTINGS):
            raise Http404
        if form.is_valid():
            try:
                services.change_settings(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _done(request, "Settings changed.", "pharmacy-settings")
    history = PharmacySettings.objects.select_related("changed_by")[:20]
    context = {"form": form, "current": current, "history": history}
    return render(request, "pharmacy/settings.html", context, status=form_status(form))


# --- master formulation records ---------------------------------------------------------


@staff(Perm.VIEW_FORMULATION)
def formulation_list(request):
    mfrs = queries.formulations_for(request.user).select_related("author")
    page = console_page(request, mfrs.prefetch_related("components__ingredient"))
    return render(request, "pharmacy/formulations.html", {"page": page})


def _formula_lines(form) -> list | None:
    lines, by_name = [], {i.name.lower(): i for i in Ingredient.objects.all()}
    for name, strength, function in form.cleaned_data["components"]:
        ingredient = by_name.get(name.lower())
        if ingredient is None:
            form.add_error("components", f"{name} is not in the formulary.")
            return None
        lines.append(services.ComponentLine(ingredient, strength, function))
    return lines


def _steps(form) -> list:
    return [
        services.StepLine(text, pharmacist_only=pharmacist, photo=photo)
        for text, pharmacist, photo in form.cleaned_data["steps"]
    ]


FORMULA_ONLY = ("code", "components", "steps", "change_reason")


@staff(Perm.AUTHOR_FORMULATION)
def formulation_new(request):
    """A new MFR, or (with ?from=<id>) the next version of one, prefilled from it."""
    previous = one(Formulation, request.GET["from"]) if request.GET.get("from") else None
    initial = _initial(previous) if previous else {}
    form = f.FormulationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid() and (lines := _formula_lines(form)):
        fields = {k: v for k, v in form.cleaned_data.items() if k not in FORMULA_ONLY}
        try:
            if previous:
                mfr = services.new_version(
                    previous,
                    actor=request.user,
                    change_reason=form.cleaned_data["change_reason"],
                    components=lines,
                    steps=_steps(form),
                    **fields,
                )
            else:
                mfr = services.draft_formulation(
                    actor=request.user,
                    code=form.cleaned_data["code"],
                    components=lines,
                    steps=_steps(form),
                    **fields,
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(
                request,
                f"Draft {mfr.code} v{mfr.version} saved.",
                "formulation-detail",
                formulation_id=mfr.public_id,
            )
    context = {"form": form, "previous": previous}
    return render(request, "pharmacy/formulation_form.html", context, status=form_status(form))


def _strength_text(strength) -> str:
    return "q.s." if strength is None else number_text(strength)


def _initial(mfr: Formulation) -> dict:
    initial = {name: getattr(mfr, name) for name in services.MFR_FIELDS if name != "produces"}
    initial["code"] = mfr.code
    initial["produces"] = mfr.produces.public_id if mfr.produces_id else None
    initial["components"] = "\n".join(
        f"{c.ingredient.name} | {_strength_text(c.strength_percent)} | {c.function}"
        for c in mfr.components.select_related("ingredient")
    )
    initial["steps"] = "\n".join(
        ("[pharmacist] " if s.pharmacist_only else "[photo] " if s.photo else "") + s.text
        for s in mfr.steps.all()
    )
    return initial


@staff(Perm.VIEW_FORMULATION)
def formulation_detail(request, formulation_id):
    mfr = queries.formulation_for(request.user, formulation_id)
    versions = queries.formulations_for(request.user).filter(code=mfr.code).order_by("-version")
    context = {
        "mfr": mfr,
        "components": mfr.components.select_related("ingredient"),
        "approvals": mfr.approvals.select_related("by"),
        "needed": services.current_settings().mfr_approvals,
        "versions": versions,
        "can_approve": mfr.status == MfrStatus.DRAFT
        and request.user.has_perm(Perm.APPROVE_FORMULATION)
        and mfr.author_id != request.user.pk
        and not mfr.approvals.filter(by=request.user).exists(),
    }
    return render(request, "pharmacy/formulation.html", context)


@staff(Perm.APPROVE_FORMULATION)
@require_POST
def formulation_approve(request, formulation_id):
    mfr = one(Formulation, formulation_id)
    try:
        mfr = services.approve_formulation(mfr, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request, f"MFR {mfr.code} v{mfr.version}: {mfr.get_status_display().lower()}."
        )
    return redirect("formulation-detail", formulation_id=mfr.public_id)


# --- preparations ----------------------------------------------------------------------------


def _strength_fields(request, mfr: Formulation):
    """The preparation form's per-active strengths, and an added active, from POST."""
    errors, strengths, added = {}, {}, {}
    for c in mfr.components.select_related("ingredient"):
        if c.strength_percent is None:
            continue
        raw = request.POST.get(f"strength_{c.pk}", "").strip()
        try:
            value = Decimal(raw) if raw else c.strength_percent
        except ArithmeticError:
            errors[f"strength_{c.pk}"] = f"{c.ingredient}: enter a strength in %."
            continue
        if value != c.strength_percent:
            strengths[c.ingredient] = value
    extra = request.POST.get("added_ingredient", "")
    if extra:
        ingredient = Ingredient.objects.filter(public_id=extra).first() if _is_uuid(extra) else None
        raw = request.POST.get("added_strength", "").strip()
        try:
            added[ingredient] = Decimal(raw)
        except ArithmeticError:
            errors["added_strength"] = "Enter the added active's strength in %."
        if ingredient is None:
            errors["added_ingredient"] = "Choose an active from the formulary."
    return strengths, added, errors


def _is_uuid(text: str) -> bool:
    import uuid

    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@staff(Perm.ADD_PREPARATION)
def preparation_new(request, patient_id):
    patient = fetch(request, Patient, patient_id)
    mfrs = Formulation.objects.filter(status=MfrStatus.APPROVED, produces__isnull=True)
    chosen = request.POST.get("formulation") or request.GET.get("formulation")
    mfr = mfrs.filter(public_id=chosen).first() if chosen and _is_uuid(chosen) else None
    form = f.PreparationForm(request.POST or None)
    errors = {}
    if request.method == "POST" and mfr is not None and form.is_valid():
        strengths, added, errors = _strength_fields(request, mfr)
        if not errors:
            try:
                preparation = services.derive_preparation(
                    actor=request.user,
                    patient=patient,
                    formulation=mfr,
                    strengths=strengths,
                    added=added,
                    name=form.cleaned_data["name"],
                )
            except ValidationError as exc:
                errors = {k: " ".join(v) for k, v in exc.message_dict.items()}
            else:
                warned = preparation.warnings.count()
                text = f"{preparation.name} prepared." + (
                    f" {warned} safety warning(s) await a pharmacist." if warned else ""
                )
                return _done(
                    request, text, "preparation-detail", preparation_id=preparation.public_id
                )
    elif request.method == "POST" and mfr is None:
        errors = {"formulation": "Choose an approved master formulation record."}
    context = {
        "patient": patient,
        "mfrs": mfrs,
        "mfr": mfr,
        "components": mfr.components.select_related("ingredient") if mfr else [],
        "actives": Ingredient.objects.filter(role="active"),
        "form": form,
        "errors": errors,
        "posted": request.POST,
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "pharmacy/preparation_form.html", context, status=status)


@staff(Perm.VIEW_PREPARATION)
def preparation_detail(request, preparation_id):
    preparation = fetch(request, Preparation, preparation_id)
    return _preparation_page(request, preparation)


def _preparation_page(request, preparation, *, batch_form=None, status=200):
    context = {
        "preparation": preparation,
        "patient": preparation.patient,
        "components": preparation.components.select_related("ingredient"),
        "warnings": preparation.warnings.select_related("override__by", "batch"),
        "batches": preparation.batches.all(),
        "batch_form": batch_form or f.BatchForm(initial={"dispensed_g": 30}),
        "blocked": services.open_warnings(preparation).exists(),
    }
    return render(request, "pharmacy/preparation.html", context, status=status)


@staff(Perm.OVERRIDE_SAFETY)
@require_POST
def preparation_override(request, preparation_id, warning_id):
    preparation = fetch(request, Preparation, preparation_id)
    warning = visible_or_404(preparation.warnings.all(), warning_id)
    try:
        services.override_warning(
            warning, actor=request.user, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        messages.error(request, "Override refused — " + " ".join(exc.messages))
    else:
        messages.success(request, "Warning overridden; the reason is on the record.")
    back = request.POST.get("next", "")
    if back.startswith("/batches/"):
        return redirect(back)
    return redirect("preparation-detail", preparation_id=preparation.public_id)


# --- batches ----------------------------------------------------------------------------------


@staff(Perm.COMPOUND)
@require_POST
def batch_new(request):
    """Start a batch: of the patient's preparation, or of a stock MFR."""
    form = f.BatchForm(request.POST)
    preparation = formulation = None
    if request.POST.get("preparation"):
        preparation = fetch(request, Preparation, request.POST["preparation"])
    else:
        formulation = one(Formulation, request.POST.get("formulation", ""))
    if form.is_valid():
        try:
            batch = services.start_batch(
                actor=request.user,
                preparation=preparation,
                formulation=formulation,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(
                request,
                "Batch started: weigh each component.",
                "batch-detail",
                batch_id=batch.public_id,
            )
    if preparation is not None:
        return _preparation_page(request, preparation, batch_form=form, status=422)
    messages.error(request, errors_text(form))
    return redirect("pharmacy-home")


@staff(Perm.VIEW_BATCH)
def batch_list(request):
    start = _date(request.GET.get("start")) or timezone.localdate() - timedelta(days=90)
    end = _date(request.GET.get("end")) or timezone.localdate()
    status = request.GET.get("status", "")
    if status not in BatchStatus.values:
        status = ""
    batches = visible_to(request.user, queries.batches_between(start, end, status))
    page = console_page(request, batches)
    query = f"start={start}&end={end}&status={status}"
    context = {
        "page": page,
        "start": start,
        "end": end,
        "status": status,
        "statuses": BatchStatus.choices,
        "query": query,
    }
    return render(request, "pharmacy/batches.html", context)


def _date(text):
    from datetime import date

    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def source_options(ingredient) -> list[tuple[str, str]]:
    """The lot picker's choices, first expiry first out: lots, then stock batches."""
    lots = [
        (
            f"lot:{lot.public_id}",
            f"{lot.lot_number} · exp {lot.expiry_date:%-d %b %Y} · {lot.on_hand_g:.1f} g",
        )
        for lot in queries.usable_lots(ingredient)
    ]
    stock = [
        (f"batch:{b.public_id}", f"stock batch {b.label} · BUD {b.bud:%-d %b %Y}")
        for b in queries.usable_stock_batches(ingredient)
    ]
    return lots + stock


@staff(Perm.COMPOUND)
@require_POST
def batch_scan(request, batch_id):
    """What a scanned label picks in a component's lot field (the bench's script asks)."""
    batch = fetch(request, Batch, batch_id)
    key = request.POST.get("component", "")
    component = batch.components.filter(pk=key).first() if key.isdigit() else None
    if component is None:
        return JsonResponse({"error": "That component is not in this batch."}, status=422)
    try:
        lot, stock = services.resolve_source(component, scan=request.POST.get("scan", ""))
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=422)
    if lot is not None:
        return JsonResponse({"value": f"lot:{lot.public_id}", "label": f"lot {lot.lot_number}"})
    return JsonResponse({"value": f"batch:{stock.public_id}", "label": f"batch {stock.label}"})


def _bench(request, batch, *, forms=None, status=200):
    """The compounding record at the bench: targets, weighings, checklist, QC, states."""
    forms = forms or {}
    weighed = {w.component_id: w for w in queries.lot_genealogy(batch)}
    components = []
    for c in batch.components.select_related("ingredient"):
        options = source_options(c.ingredient)
        form = forms.get(("weigh", c.pk)) or f.WeighingForm(prefix=f"c{c.pk}")
        chosen = form["lot"].value() if form.is_bound else (options[0][0] if options else "")
        components.append(
            {"c": c, "w": weighed.get(c.pk), "options": options, "chosen": chosen, "form": form}
        )
    done = {s.step_id: s for s in batch.steps_done.select_related("by")}
    steps = [(s, done.get(s.pk)) for s in batch.formulation.steps.all()]
    bud = None
    if batch.status == BatchStatus.READY_FOR_REVIEW:
        try:
            bud = services.beyond_use(batch)
        except ValidationError as exc:
            bud = " ".join(exc.messages)
    context = {
        "batch": batch,
        "patient": batch.preparation.patient if batch.preparation_id else None,
        "components": components,
        "balances": Balance.objects.filter(retired=False),
        "steps": steps,
        "states": batch.states.select_related("by"),
        "deviations": batch.deviations.select_related("by"),
        "warnings": batch.preparation.warnings.select_related("override__by")
        if batch.preparation_id
        else [],
        "problems": services.bench_problems(batch) if batch.at_the_bench else [],
        "bud_preview": bud,
        "qc_form": forms.get("qc")
        or f.QcForm(
            initial={
                "appearance": batch.appearance,
                "appearance_ok": batch.appearance_ok,
                "ph": batch.ph,
                "final_weight_g": batch.final_weight_g,
            }
        ),
        "photo_form": forms.get("photo") or f.PhotoForm(),
        "deviation_form": forms.get("deviation") or f.TextForm(),
        "verify_form": forms.get("verify") or f.VerifyForm(),
        "reason_form": forms.get("state") or f.ReasonForm(),
        "error": forms.get("error", ""),
        "hands": {batch.compounded_by_id, *batch.weighings.values_list("weighed_by_id", flat=True)},
    }
    return render(request, "pharmacy/batch.html", context, status=status)


@staff(Perm.VIEW_BATCH)
def batch_detail(request, batch_id):
    return _bench(request, fetch(request, Batch, batch_id))


@staff(Perm.COMPOUND)
@require_POST
def batch_weigh(request, batch_id):
    batch = fetch(request, Batch, batch_id)
    component = (
        batch.components.filter(pk=request.POST.get("component", "")).first()
        if request.POST.get("component", "").isdigit()
        else None
    )
    if component is None:
        raise Http404
    form = f.WeighingForm(request.POST, prefix=f"c{component.pk}")
    if form.is_valid():
        data = form.cleaned_data
        lot = source = None
        picked = data["lot"]
        if picked.startswith("lot:") and _is_uuid(picked[4:]):
            lot = IngredientLot.objects.filter(public_id=picked[4:]).first()
        elif picked.startswith("batch:") and _is_uuid(picked[6:]):
            source = Batch.objects.filter(public_id=picked[6:]).first()
        balance = (
            Balance.objects.filter(public_id=data["balance"]).first()
            if _is_uuid(data["balance"])
            else None
        )
        try:
            services.record_weighing(
                batch,
                actor=request.user,
                component=component,
                balance=balance,
                actual_g=data["actual_g"],
                lot=lot,
                source_batch=source,
                scan=data["scan"] if not (lot or source) else "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(
                request,
                f"{component.ingredient} weighed.",
                "batch-detail",
                batch_id=batch.public_id,
            )
    return _bench(request, batch, forms={("weigh", component.pk): form}, status=422)


@staff(Perm.COMPOUND)
@require_POST
def batch_step(request, batch_id):
    batch = fetch(request, Batch, batch_id)
    form = f.StepForm(request.POST)
    step = None
    if form.is_valid():
        step = batch.formulation.steps.filter(pk=form.cleaned_data["step"]).first()
    if step is None:
        raise Http404
    try:
        services.complete_step(batch, actor=request.user, step=step, note=form.cleaned_data["note"])
    except ValidationError as exc:
        return _bench(request, batch, forms={"error": " ".join(exc.messages)}, status=422)
    return _done(request, f"Step {step.order + 1} done.", "batch-detail", batch_id=batch.public_id)


def _bench_post(request, batch_id, key: str, form, action, done: str):
    """A bench form: the service `action(batch, data)` on valid input, else the record
    again with the refused form (422)."""
    batch = fetch(request, Batch, batch_id)
    if form.is_valid():
        try:
            action(batch, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(request, done, "batch-detail", batch_id=batch.public_id)
    return _bench(request, batch, forms={key: form}, status=422)


@staff(Perm.COMPOUND)
@require_POST
def batch_photo(request, batch_id):
    return _bench_post(
        request,
        batch_id,
        "photo",
        f.PhotoForm(request.POST, request.FILES),
        lambda batch, data: services.attach_photo(batch, actor=request.user, data=data["photo"]),
        "Photo stored.",
    )


@staff(Perm.VIEW_BATCH)
def batch_photo_file(request, batch_id):
    batch = fetch(request, Batch, batch_id)
    if not batch.photo:
        raise Http404
    return private_jpeg(read_private(batch.photo))


@staff(Perm.COMPOUND)
@require_POST
def batch_qc(request, batch_id):
    return _bench_post(
        request,
        batch_id,
        "qc",
        f.QcForm(request.POST),
        lambda batch, data: services.record_qc(batch, actor=request.user, **data),
        "QC recorded.",
    )


@staff(Perm.COMPOUND)
@require_POST
def batch_deviation(request, batch_id):
    return _bench_post(
        request,
        batch_id,
        "deviation",
        f.TextForm(request.POST),
        lambda batch, data: services.record_deviation(batch, actor=request.user, **data),
        "Deviation recorded.",
    )


@staff(Perm.COMPOUND)
@require_POST
def batch_submit(request, batch_id):
    batch = fetch(request, Batch, batch_id)
    try:
        services.submit_batch(batch, actor=request.user)
    except ValidationError as exc:
        return _bench(request, batch, forms={"error": " ".join(exc.messages)}, status=422)
    return _done(
        request, "Sent for a pharmacist's verification.", "batch-detail", batch_id=batch.public_id
    )


@staff(Perm.VERIFY_BATCH)
@require_POST
def batch_verify(request, batch_id):
    return _bench_post(
        request,
        batch_id,
        "verify",
        f.VerifyForm(request.POST),
        lambda batch, data: services.verify_batch(batch, actor=request.user, **data),
        "Verified and released.",
    )


def _state_view(service, done: str):
    """A batch state change with its reason (and, for a quarantine, expected release)."""

    def view(request, batch_id):
        def act(batch, data):
            extra = {}
            if service is services.quarantine_batch:
                extra["expected_release"] = data["expected_release"]
            service(batch, actor=request.user, reason=data["reason"], **extra)

        return _bench_post(request, batch_id, "state", f.ReasonForm(request.POST), act, done)

    view.__name__ = service.__name__
    return require_POST(view)


batch_quarantine = staff(Perm.QUARANTINE_BATCH)(
    _state_view(services.quarantine_batch, "Quarantined.")
)
batch_quarantine_release = staff(Perm.VERIFY_BATCH)(
    _state_view(services.release_quarantine, "Released from quarantine.")
)
batch_scrap = staff(Perm.VERIFY_BATCH)(_state_view(services.scrap_batch, "Scrapped."))
batch_rework = staff(Perm.VERIFY_BATCH)(_state_view(services.rework_batch, "Sent back for rework."))


@staff(Perm.VIEW_BATCH)
def batch_label(request, batch_id):
    batch = fetch(request, Batch, batch_id)
    if batch.lot_number is None:
        raise Http404
    return label_response(batch)


# --- recalls, reports, label template -------------------------------------------------------


@staff(Perm.VIEW_RECALL)
def recall_list(request):
    page = console_page(request, Recall.objects.select_related("lot__ingredient", "batch", "by"))
    return render(request, "pharmacy/recalls.html", {"page": page})


@staff(Perm.RECALL)
def recall_new(request):
    """Preview a recall's reach (?lot=<id> or ?batch=<id>), then make it."""
    lot = one(IngredientLot, request.GET["lot"]) if request.GET.get("lot") else None
    batch = fetch(request, Batch, request.GET["batch"]) if request.GET.get("batch") else None
    if lot is None and batch is None:
        return render(request, "pharmacy/recall_form.html", {"choose": True})
    form = f.RecallForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            recall = services.recall(
                actor=request.user, lot=lot, batch=batch, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return _done(
                request,
                "Recall made: further use is blocked.",
                "recall-detail",
                recall_id=recall.public_id,
            )
    reach = queries.trace(lot=lot, batch=batch)
    patients = list(Patient.objects.filter(pk__in=reach.patient_ids))
    record_reads(request, patients)
    context = {
        "lot": lot,
        "batch": batch,
        "form": form,
        "batches": Batch.objects.filter(pk__in=reach.batch_ids).select_related(
            "preparation__patient"
        ),
        "patients": patients,
    }
    return render(request, "pharmacy/recall_form.html", context, status=form_status(form))


@staff(Perm.VIEW_RECALL)
def recall_detail(request, recall_id):
    recall = one(Recall, recall_id)
    patients = list(recall.patients_reached.all())
    record_reads(request, patients)
    context = {
        "recall": recall,
        "batches": recall.batches_reached.select_related("preparation__patient", "formulation"),
        "patients": patients,
    }
    return render(request, "pharmacy/recall.html", context)


@staff(Perm.VIEW_BATCH)
def pharmacy_report(request):
    end = _date(request.GET.get("end")) or timezone.localdate()
    start = _date(request.GET.get("start")) or end - timedelta(days=90)
    try:
        within = max(0, min(3650, int(request.GET.get("within", 60))))
    except ValueError:
        within = 60
    batches = visible_to(request.user, queries.batches_between(start, end))
    counts = dict.fromkeys(BatchStatus.values, 0)
    counts |= dict(batches.order_by().values_list("status").annotate(n=Count("pk")))
    context = {
        "start": start,
        "end": end,
        "within": within,
        "counts": [(BatchStatus(s).label, s, n) for s, n in counts.items()],
        "expiring": queries.lots_expiring(within),
        "usage": queries.ingredient_usage(start, end),
        "recalls": Recall.objects.select_related("lot__ingredient", "batch")[:20],
    }
    return render(request, "pharmacy/report.html", context)


@staff(Perm.VIEW_BATCH)
def label_template(request):
    current = services.current_label_template()
    form = f.TemplateForm(request.POST or None, initial={"body": current.body})
    if request.method == "POST":
        if not request.user.has_perm(Perm.CHANGE_LABEL_TEMPLATE):
            raise Http404
        if form.is_valid():
            try:
                services.change_label_template(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                return _done(request, "New label template version saved.", "label-template")
    context = {
        "current": current,
        "versions": LabelTemplate.objects.select_related("created_by"),
        "form": form,
        "mandatory": MANDATORY,
    }
    return render(request, "pharmacy/label_template.html", context, status=form_status(form))
