from django.utils.functional import SimpleLazyObject

from .navigation import modules_for
from .permissions import Permissions


def navigation(request):
    """The navigation and `may` (the user's permissions) for every page, both read only
    when a template uses them."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    may = Permissions(request.user)
    return {"navigation": SimpleLazyObject(lambda: modules_for(may)), "may": may}
