"""Page numbers for the pager: the first and last pages, and those around the current."""

from django import template

register = template.Library()


@register.filter
def page_numbers(page) -> list:
    """1 … 4 5 [6] 7 8 … 20: numbers, with the paginator's ellipsis where pages are left out."""
    return list(page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1))
