from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from scarrx.accounts.roles import is_staff_role


def staff_required(view):
    """Console pages: signed-in staff only. Others get a 404, not a hint the page exists."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_role(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper
