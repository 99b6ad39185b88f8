from django.urls import path

from scarrx.photos import views

urlpatterns = [
    path("patients/<uuid:patient_id>/photos/new/", views.photo_upload, name="photo-upload"),
    path("photos/guide/", views.capture_guide, name="photo-guide"),
    path("photos/guide/<str:view>.jpg", views.guide_example, name="photo-guide-example"),
    path("photos/<uuid:photo_id>/", views.photo_detail, name="photo-detail"),
    path("photos/<uuid:photo_id>/image.jpg", views.photo_file, name="photo-file"),
    path("photos/<uuid:photo_id>/thumb.jpg", views.photo_thumb, name="photo-thumb"),
    path("photos/<uuid:photo_id>/preview.jpg", views.photo_preview, name="photo-preview"),
    path("photos/<uuid:photo_id>/regions/", views.photo_regions, name="photo-regions"),
    path("photos/<uuid:photo_id>/corners/", views.photo_corners, name="photo-corners"),
    path("photos/<uuid:photo_id>/chart/", views.photo_chart, name="photo-chart"),
    path("photos/<uuid:photo_id>/carry-over/", views.photo_carry_over, name="photo-carry-over"),
    path("measurements/<uuid:measurement_id>/compare/", views.compare, name="photo-compare"),
    path(
        "measurements/<uuid:measurement_id>/<str:which>.jpg",
        views.compare_image,
        name="photo-compare-image",
    ),
]
