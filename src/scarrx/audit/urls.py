from django.urls import path

from scarrx.audit import views

urlpatterns = [
    path("patients/<uuid:patient_id>/", views.patient_history, name="patient-history"),
]
