"""peerhub.paging.CountedPaginator: a page and its total in one query (issue 17), the same pages
as Django's Paginator otherwise."""

import pytest
from django.core.paginator import Paginator

from peerhub.models import User
from peerhub.paging import CountedPaginator
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def members():
    for _ in range(7):
        UserFactory()
    return User.objects.order_by("pk")


def test_a_page_and_its_count_are_one_query(members, django_assert_num_queries):
    with django_assert_num_queries(1):
        page = CountedPaginator(members, 3).get_page(2)
        assert page.paginator.count == 7
        assert page.paginator.num_pages == 3
        assert page.has_next() and page.has_previous()
    assert [m.pk for m in page] == [m.pk for m in members[3:6]]


# A page number past any offset a database takes (64 bits) is the last page, as Paginator says.
@pytest.mark.parametrize(
    "number", ["1", "3", "99", "x", None, "0", "-2", "2147483649", "14167099448608935641076"]
)
def test_pages_are_those_of_djangos_paginator(members, number):
    counted = CountedPaginator(members, 3).get_page(number)
    plain = Paginator(members, 3).get_page(number)
    assert counted.number == plain.number
    assert [m.pk for m in counted] == [m.pk for m in plain]
    assert counted.paginator.count == plain.paginator.count


def test_an_empty_list_is_one_empty_page():
    page = CountedPaginator(User.objects.none(), 3).get_page(1)
    assert page.number == 1 and list(page) == [] and page.paginator.count == 0
