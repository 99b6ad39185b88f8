from django.urls import path

from scarrx.treatment import views

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path(
        "patients/<uuid:patient_id>/prescriptions/new/",
        views.prescription_new,
        name="prescription-new",
    ),
    path(
        "prescriptions/<uuid:prescription_id>/",
        views.prescription_detail,
        name="prescription-detail",
    ),
    path(
        "prescriptions/<uuid:prescription_id>/status/",
        views.prescription_status,
        name="prescription-status",
    ),
    path(
        "prescriptions/<uuid:prescription_id>/applications/",
        views.application_new,
        name="application-new",
    ),
    path("prescriptions/<uuid:prescription_id>/fills/new/", views.fill_new, name="fill-new"),
    path(
        "prescriptions/<uuid:prescription_id>/side-effects/new/",
        views.side_effect_new,
        name="side-effect-new",
    ),
    path("fills/<uuid:fill_id>/", views.fill_detail, name="fill-detail"),
    path("fills/<uuid:fill_id>/verify/", views.fill_verify, name="fill-verify"),
    path("fills/<uuid:fill_id>/label.pdf", views.fill_label, name="fill-label"),
    path(
        "side-effects/<uuid:side_effect_id>/", views.side_effect_detail, name="side-effect-detail"
    ),
    path(
        "side-effects/<uuid:side_effect_id>/review/",
        views.side_effect_review,
        name="side-effect-review",
    ),
]
