from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from epidispatch.orgunits.selectors import scope_roots

from .selectors import unit_overview


@login_required
def home(request):
    return render(request, "web/home.html", {"roots": scope_roots(request.user)})


@login_required
def unit_index(request):
    roots = scope_roots(request.user)
    if len(roots) == 1:
        return redirect("unit_detail", code=roots[0].code)
    return render(request, "web/home.html", {"roots": roots})


@login_required
def unit_detail(request, code: str):
    return render(request, "web/unit_detail.html", {"overview": unit_overview(request.user, code)})
