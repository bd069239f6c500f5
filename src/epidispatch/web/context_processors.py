from .navigation import MODULES


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {"navigation": MODULES}
