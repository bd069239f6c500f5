"""The 日通报 pages: the list of bulletins, one bulletin, its .docx and .xlsx.

Adapters only: which bulletins a user may read comes from `bulletins_visible_to` (those
holding a whole county or city), what a bulletin says from `bulletin.content.bulletin_content`.
A user holding a city reads each of its counties' bulletins (`?county=CODE`); a county
outside the user's scope, like a bulletin they may not read, is a 404.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _

from .bulletin import docx as docx_writer
from .bulletin import xlsx as xlsx_writer
from .bulletin.content import bulletin_content
from .models import RankingGroup, RankingMeasure
from .permissions import reads_bulletins
from .selectors import bulletin_counties, bulletins_visible_to

PAGE_SIZE = 50

#: The headline figures the page shows, by the key of the bulletin's figure lines.
PAGE_FIGURES = (
    ("doses", _("Doses given")),
    ("doses_added", _("Doses since the previous cutoff")),
    ("first_dose", _("People vaccinated")),
    ("coverage", _("Coverage of the target population")),
    ("series_complete", _("Series complete")),
    ("booster", _("Booster")),
    ("seniors_covered", _("Aged 60 and over vaccinated")),
    ("seniors_coverage", _("Coverage aged 60 and over")),
    ("to_clear", _("Left to clear")),
)

TABLE_HEADINGS = {
    (RankingGroup.TOWNS, RankingMeasure.COVERAGE): _("Towns and streets by coverage"),
    (RankingGroup.TOWNS, RankingMeasure.TARGET): _(
        "Towns and streets by completion of the day's target"
    ),
    (RankingGroup.DEPARTMENTS, RankingMeasure.COVERAGE): _("Departments by coverage"),
    (RankingGroup.DEPARTMENTS, RankingMeasure.TARGET): _(
        "Departments by completion of the day's target"
    ),
}


@login_required
def bulletin_list(request):
    if not reads_bulletins(request.user):
        raise PermissionDenied(_("Bulletins go to those who hold a whole county or city."))
    counties = list(bulletin_counties(request.user))
    page = Paginator(bulletins_visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "dispatch/bulletin_list.html",
        {"page": page, "counties": counties, "several": len(counties) > 1},
    )


def _bulletin_and_county(request, number: int):
    bulletin = get_object_or_404(bulletins_visible_to(request.user), number=number)
    counties = list(bulletin_counties(request.user))
    code = request.GET.get("county")
    county = next((c for c in counties if c.code == code), None) if code else None
    if county is None and not code and counties:
        county = counties[0]
    if county is None:
        raise Http404(_("No such county within your units."))
    return bulletin, county, counties


@login_required
def bulletin_detail(request, number: int):
    bulletin, county, counties = _bulletin_and_county(request, number)
    content = bulletin_content(bulletin, county)
    return render(
        request,
        "dispatch/bulletin_detail.html",
        {
            "bulletin": bulletin,
            "content": content,
            "county": county,
            "counties": counties if len(counties) > 1 else [],
            "query": f"?county={county.code}" if len(counties) > 1 else "",
            "figures": [(label, content.figure(key)) for key, label in PAGE_FIGURES],
            "tables": [
                (TABLE_HEADINGS[(table.group, table.measure)], table) for table in content.tables
            ],
            "candidates": [
                (candidate, RankingMeasure(candidate.measure).label)
                for candidate in content.candidates
            ],
        },
    )


def _download(data: bytes, filename: str, content_type: str) -> HttpResponse:
    """The file as an attachment; a Chinese name goes out as RFC 5987 `filename*`."""
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, max-age=0"
    return response


@login_required
def bulletin_docx(request, number: int):
    bulletin, county, _counties = _bulletin_and_county(request, number)
    content = bulletin_content(bulletin, county)
    return _download(
        docx_writer.bulletin_docx(content), f"{content.file_stem}.docx", docx_writer.DOCX_TYPE
    )


@login_required
def bulletin_xlsx(request, number: int):
    bulletin, county, _counties = _bulletin_and_county(request, number)
    content = bulletin_content(bulletin, county)
    return _download(
        xlsx_writer.bulletin_xlsx(content), f"{content.file_stem}.xlsx", xlsx_writer.XLSX_TYPE
    )
