from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from scarrx.accounts.views import LoginView, home
from scarrx.api import api

urlpatterns = [
    path("", home, name="home"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change.html"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    path(
        "portal/",
        TemplateView.as_view(template_name="accounts/portal_pending.html"),
        name="portal-pending",
    ),
    path("patients/", include("scarrx.patients.urls")),
    path("", include("scarrx.assessments.urls")),
    path("", include("scarrx.photos.urls")),
    path("audit/", include("scarrx.audit.urls")),
    path("api/v1/", api.urls),
]
