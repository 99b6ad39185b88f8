"""Every route declares who may reach it (scarrx.access): Django's own auth views too."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import TemplateView

from scarrx.access import portal, public, signed_in
from scarrx.accounts.views import LoginView, LogoutView, home
from scarrx.api import api

urlpatterns = [
    path("", home, name="home"),
    path("login/", public(LoginView.as_view()), name="login"),
    path("logout/", signed_in(LogoutView.as_view()), name="logout"),
    path(
        "password/",
        signed_in(
            auth_views.PasswordChangeView.as_view(template_name="accounts/password_change.html")
        ),
        name="password_change",
    ),
    path(
        "password/done/",
        signed_in(
            auth_views.PasswordChangeDoneView.as_view(
                template_name="accounts/password_change_done.html"
            )
        ),
        name="password_change_done",
    ),
    path(
        "portal/",
        portal(TemplateView.as_view(template_name="accounts/portal_pending.html")),
        name="portal-pending",
    ),
    path("patients/", include("scarrx.patients.urls")),
    path("", include("scarrx.assessments.urls")),
    path("", include("scarrx.photos.urls")),
    path("audit/", include("scarrx.audit.urls")),
    path("api/v1/", api.urls),
]
