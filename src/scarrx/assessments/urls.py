from django.urls import path

from scarrx.assessments import views

urlpatterns = [
    path(
        "patients/<uuid:patient_id>/assessments/new/",
        views.assessment_new,
        name="assessment-new",
    ),
    path("assessments/<uuid:assessment_id>/", views.assessment_detail, name="assessment-detail"),
    path(
        "assessments/<uuid:assessment_id>/amend/", views.assessment_amend, name="assessment-amend"
    ),
    path("assessments/gb-suggest/", views.gb_suggest, name="assessment-gb-suggest"),
]
