from django.urls import path

from scarrx.pharmacy import views as v

urlpatterns = [
    path("pharmacy/", v.pharmacy_home, name="pharmacy-home"),
    path("pharmacy/ingredients/", v.ingredient_list, name="ingredient-list"),
    path(
        "pharmacy/ingredients/<uuid:ingredient_id>/", v.ingredient_detail, name="ingredient-detail"
    ),
    path(
        "pharmacy/ingredients/<uuid:ingredient_id>/edit/",
        v.ingredient_edit,
        name="ingredient-edit",
    ),
    path("pharmacy/balances/", v.balance_list, name="balance-list"),
    path(
        "pharmacy/balances/<uuid:balance_id>/retire/",
        v.balance_retire,
        name="balance-retire",
    ),
    path(
        "pharmacy/balances/<uuid:balance_id>/calibrate/",
        v.balance_calibrate,
        name="balance-calibrate",
    ),
    path("pharmacy/settings/", v.pharmacy_settings, name="pharmacy-settings"),
    path("pharmacy/formulations/", v.formulation_list, name="formulation-list"),
    path("pharmacy/formulations/new/", v.formulation_new, name="formulation-new"),
    path(
        "pharmacy/formulations/<uuid:formulation_id>/",
        v.formulation_detail,
        name="formulation-detail",
    ),
    path(
        "pharmacy/formulations/<uuid:formulation_id>/approve/",
        v.formulation_approve,
        name="formulation-approve",
    ),
    path("pharmacy/recalls/", v.recall_list, name="recall-list"),
    path("pharmacy/recalls/new/", v.recall_new, name="recall-new"),
    path("pharmacy/recalls/<uuid:recall_id>/", v.recall_detail, name="recall-detail"),
    path("pharmacy/reports/", v.pharmacy_report, name="pharmacy-report"),
    path("pharmacy/label-template/", v.label_template, name="label-template"),
    path(
        "patients/<uuid:patient_id>/preparations/new/",
        v.preparation_new,
        name="preparation-new",
    ),
    path("preparations/<uuid:preparation_id>/", v.preparation_detail, name="preparation-detail"),
    path(
        "preparations/<uuid:preparation_id>/warnings/<uuid:warning_id>/override/",
        v.preparation_override,
        name="preparation-override",
    ),
    path("batches/", v.batch_list, name="batch-list"),
    path("batches/new/", v.batch_new, name="batch-new"),
    path("batches/<uuid:batch_id>/", v.batch_detail, name="batch-detail"),
    path("batches/<uuid:batch_id>/weigh/", v.batch_weigh, name="batch-weigh"),
    path("batches/<uuid:batch_id>/scan/", v.batch_scan, name="batch-scan"),
    path("batches/<uuid:batch_id>/step/", v.batch_step, name="batch-step"),
    path("batches/<uuid:batch_id>/photo/", v.batch_photo, name="batch-photo"),
    path("batches/<uuid:batch_id>/photo.jpg", v.batch_photo_file, name="batch-photo-file"),
    path("batches/<uuid:batch_id>/qc/", v.batch_qc, name="batch-qc"),
    path("batches/<uuid:batch_id>/deviation/", v.batch_deviation, name="batch-deviation"),
    path("batches/<uuid:batch_id>/submit/", v.batch_submit, name="batch-submit"),
    path("batches/<uuid:batch_id>/verify/", v.batch_verify, name="batch-verify"),
    path("batches/<uuid:batch_id>/quarantine/", v.batch_quarantine, name="batch-quarantine"),
    path(
        "batches/<uuid:batch_id>/quarantine-release/",
        v.batch_quarantine_release,
        name="batch-quarantine-release",
    ),
    path("batches/<uuid:batch_id>/scrap/", v.batch_scrap, name="batch-scrap"),
    path("batches/<uuid:batch_id>/rework/", v.batch_rework, name="batch-rework"),
    path("batches/<uuid:batch_id>/label.pdf", v.batch_label, name="batch-label"),
]
