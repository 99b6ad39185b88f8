from scarrx.accounts.models import Pharmacy
from scarrx.accounts.roles import role_of


def console(request):
    """What every console page needs: the pharmacy's name and the signed-in role."""
    return {"pharmacy": Pharmacy.current(), "role": role_of(request.user)}
