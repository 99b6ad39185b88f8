from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render

from scarrx.access import signed_in
from scarrx.accounts import services
from scarrx.accounts.roles import PATIENT, role_of
from scarrx.audit.services import client_ip


class LoginView(auth_views.LoginView):
    """Django's login, refusing further attempts after repeated failures."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        username = request.POST.get("username", "")
        ip = client_ip(request)
        if services.login_blocked(username, ip):
            form = self.get_form()
            form.errors.clear()
            form.add_error(
                None,
                forms.ValidationError(
                    "Too many failed sign-in attempts. Wait 15 minutes, then try again."
                ),
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        services.note_failed_login(self.request.POST.get("username", ""), client_ip(self.request))
        return super().form_invalid(form)

    def form_valid(self, form):
        services.clear_failed_logins(form.get_user().username, client_ip(self.request))
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    """Django's sign-out, saying so on the sign-in page it leads to."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are signed out.")
        return response


@signed_in
def home(request):
    role = role_of(request.user)
    if role == PATIENT:
        # The patient portal arrives with a later issue; until then a patient sees a notice.
        return redirect("portal-pending")
    if role is None:
        return render(request, "accounts/no_role.html", status=403)
    return redirect("patient-list")
