from django.urls import path

from scarrx.patients import views

urlpatterns = [
    path("", views.patient_list, name="patient-list"),
    path("new/", views.intake, name="patient-intake"),
    path("<uuid:patient_id>/", views.patient_detail, name="patient-detail"),
    path("<uuid:patient_id>/edit/", views.patient_edit, name="patient-edit"),
    path("<uuid:patient_id>/timeline/", views.patient_timeline, name="patient-timeline"),
    path("<uuid:patient_id>/consents/", views.consent_record, name="patient-consent"),
    path("<uuid:patient_id>/portal-login/", views.portal_login, name="patient-portal"),
]
