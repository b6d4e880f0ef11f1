"""Paginating a list page that keeps its filters from page to page."""

from __future__ import annotations

from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest


def page_of(request: HttpRequest, items: Any, per_page: int) -> tuple[Page, str]:
    """The requested page of `items` (the last for a page past the end, the
    first for nonsense), and the request's query string without its page, for
    templates/includes/pagination.html to build the links with."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
