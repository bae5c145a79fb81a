"""Pages that carry their total with them (issue 17): Django's Paginator asks the database twice
for a page, a COUNT and then the rows; here each row is read with `COUNT(*) OVER ()`, the number
of rows before the LIMIT, so a page costs one query. Only a page out of range (or an empty
list) falls back to the COUNT, to find the last page as Paginator.get_page does."""

from django.core.paginator import Page, Paginator
from django.db.models import Count, Window

_TOTAL = "_paging_total"
# The furthest row a page is read from with its total; a page number beyond it is answered as
# Paginator answers any page past the end: with the last page.
MAX_OFFSET = 2**31 - 1


class CountedPaginator(Paginator):
    def __init__(self, object_list, per_page, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        if self.orphans:
            raise ValueError("CountedPaginator does not keep orphans.")

    def get_page(self, number) -> Page:
        try:
            wanted = int(number)
        except (TypeError, ValueError):
            wanted = 1  # as Paginator.get_page: not a number is the first page
        if wanted < 1 or (wanted - 1) * self.per_page > MAX_OFFSET:
            # As Paginator.get_page: the last page (no database takes an offset past 64 bits,
            # and no list here holds two billion rows).
            return super().get_page(number)
        bottom = (wanted - 1) * self.per_page
        rows = list(
            self.object_list.annotate(**{_TOTAL: Window(Count("pk"))})[
                bottom : bottom + self.per_page
            ]
        )
        if not rows:
            return super().get_page(number)
        self.__dict__["count"] = getattr(rows[0], _TOTAL)  # Paginator.count is a cached_property
        return self._get_page(rows, wanted, self)


def detached(page: Page) -> Page:
    """The page with its rows and its paginator's figures read, and the paginator's query let
    go: it pickles (a kept part of a page, peerhub.pagecache) without reading the whole list."""
    page.object_list = list(page.object_list)
    paginator = page.paginator
    paginator.__dict__["count"] = paginator.count  # cached_properties, read now
    paginator.__dict__["num_pages"] = paginator.num_pages
    paginator.object_list = []
    return page
