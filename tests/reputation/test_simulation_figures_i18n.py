"""The simulation's figures on "How reputation works" read in the reader's language: names,
values with words, goals and the adversaries' captions translated, numbers written as the
language writes them (0.859 reads 0,859 in French), from a summary stored as data. A summary an
older run stored (its figures already words) is shown as it was, and the printout, the report and
README keep their English."""

import dataclasses
import json

import pytest
from django.urls import reverse
from django.utils.html import conditional_escape, escape
from django.utils.translation import override

from reputation import simulation, simulation_report
from reputation.simulation_adversaries import DEFAULT_STRENGTH
from reputation.simulation_text import Text, localized, points

# Busy enough that two days give every adversary something to act on; no prizes (not under
# test here: the hand-made result below has them).
ALL = simulation.Config(
    members=120, challenges=2, days=2, seed=10, post_rate=0.15, vote_rate=0.3, prize_share=0.0,
    **DEFAULT_STRENGTH,
)  # fmt: skip


def how_it_works(client, language: str) -> str:
    url = reverse("reputation:how-it-works")
    return client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()


def paid_result() -> simulation.Result:
    """A run's result made by hand, with prizes: every kind of figure but the adversaries'."""
    return simulation.Result(
        config=simulation.Config(), tau_per_challenge={1: 0.8594}, ring_in_top_1pct=0,
        ring_in_top_decile=0, ring_size=6, top_1pct_size=3, builders_over_loners=1.523,
        lineage_share=0.1234, lazy_over_parents=0.05, seconds_per_day=[1.0, 1.5], solutions=40,
        votes=300, reviews=50, low_trust_ring=6, low_trust_honest=0, seconds_in_all=612.4,
        purses=3, purses_refunded=1, currency="EUR", money_awarded=123456,
        money_to_ancestors=12345, money_escrow_left=0, money_reputation_lines=0,
        builders_over_loners_money=1.25,
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_the_public_page_words_the_latest_figures_in_french_and_arabic(client, page_cache_off):
    sim = simulation.Simulation(ALL)
    result = sim.run()
    simulation_report.write(result)
    tau = f"{result.mean_tau:.3f}".replace(".", ",")
    lineage = f"{result.lineage_share * 100:.1f}".replace(".", ",")

    french = how_it_works(client, "fr")
    assert "<td>τ de Kendall moyen, qualité cachée contre classement</td>" in french
    assert f"<td>{tau}</td><td>≥&nbsp;0,8</td>" in french
    assert f"<td>{lineage}\N{NO-BREAK SPACE}%</td>" in french
    assert "<caption>Cercle camouflé</caption>" in french
    wake = sim.wake_day() + 1
    caption = f"<caption>Dormeurs (honnêtes jusqu’au jour {wake}, puis de connivence)</caption>"  # noqa: RUF001
    assert caption in french
    farm = f"<caption>Culture de lignée ({len(sim.ids('farmer'))} faux comptes, "
    assert farm in french
    assert "Mean Kendall" not in french and "Camouflaged ring" not in french

    arabic = how_it_works(client, "ar")
    assert "<td>متوسط τ لكندال بين الجودة الخفية والترتيب</td>" in arabic
    assert f"<td>{tau}</td><td>≥&nbsp;0,8</td>" in arabic
    assert "<caption>حلقة متخفّية</caption>" in arabic
    assert "Mean Kendall" not in arabic

    # In English the page quotes the printout's words.
    english = how_it_works(client, "en")
    for row in simulation_report.figure_rows(result.figures()):
        assert f"<td>{escape(row.name)}</td><td>{conditional_escape(row.value)}</td>" in english


@pytest.mark.django_db
def test_a_summary_stored_before_figures_were_data_is_shown_as_it_was(client, page_cache_off):
    older = {
        "members": 300, "challenges": 6, "days": 10, "seed": 1, "purses": 0,
        "figures": [
            ["Mean Kendall τ, hidden quality vs rank", "0.859", "≥ 0.8", True],
            ["Time per simulated day", "too few to measure", "—", True],
        ],
        "adversaries": [
            {"name": "Sleepers (honest until day 6, then colluding)",
             "figures": [["Sleepers' mean trust level when they woke", "never woke", "—", True]]},
        ],
    }  # fmt: skip
    simulation_report.figures_path().write_text(json.dumps(older), encoding="utf-8")
    response = client.get(reverse("reputation:how-it-works"), HTTP_ACCEPT_LANGUAGE="fr")
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        "<td>Mean Kendall τ, hidden quality vs rank</td><td>0.859</td><td>≥&nbsp;0.8</td>" in page
    )
    assert "<td>too few to measure</td><td>—</td><td>(mesuré)</td>" in page
    assert "<caption>Sleepers (honest until day 6, then colluding)</caption>" in page


def test_the_summary_keeps_messages_and_numbers_not_words():
    summary = simulation_report.summary(paid_result())
    assert json.loads(json.dumps(summary)) == summary
    tau, *_rest = summary["figures"]
    assert tau == {
        "name": {"message": "Mean Kendall τ, hidden quality vs rank"},
        "value": {"message": "{number}", "params": {"number": {"number": 0.8594, "form": ".3f"}}},
        "goal": {"message": "≥ {value}", "params": {"value": {"number": 0.8, "form": ".1f"}}},
        "reached": True,
    }
    awarded = summary["figures"][8]
    assert awarded["name"] == {
        "message": "Prize money awarded ({count} purse, {refunded} refunded)",
        "plural": "Prize money awarded ({count} purses, {refunded} refunded)",
        "params": {"count": 3, "refunded": 1},
    }
    assert awarded["goal"] is None  # only measured


def test_the_printout_and_the_report_keep_their_english_words():
    result = paid_result()
    assert result.figures() == [
        ("Mean Kendall τ, hidden quality vs rank", "0.859", "≥ 0.8", True),
        ("Ring members in the top 1 % (3) by reputation", "0 of 6", "0", True),
        ("Builders / loners mean reputation, equal quality", "1.52x", "≥ 1.5x", True),
        ("Share of reputation from lineage credit", "12.3%", "—", True),
        ("Lazy forks' earnings / their parents'", "5.0%", "≤ 10 %", True),
        ("Time per simulated day", "1.25 s", "—", True),
        ("Time of the whole run", "612 s", "—", True),
        ("Builders / loners mean prize money, equal quality", "1.25x", "> 1x", True),
        ("Prize money awarded (3 purses, 1 refunded)", "1,234.56 EUR", "—", True),
        ("Share of prize money paid to ancestors", "10.0%", "—", True),
        ("Left in the purses' escrow after the awards", "0.00 EUR", "0", True),
        ("Reputation lines added by the prize money", "0", "0", True),
    ]
    assert result.money(123456) == "1,234.56 EUR"
    # Whatever language is active: the report is English.
    with override("fr"):
        assert "1,234.56 EUR" in simulation_report.render(result)
        assert "Prize money awarded (3 purses, 1 refunded)" in simulation_report.render(result)
    # The stored summary, read in English, gives the printout's rows.
    stored = simulation_report.summary(result)["figures"]
    with override("en"):
        assert simulation_report.figure_rows(stored) == simulation_report.figure_rows(
            result.figures()
        )


def test_a_stored_figure_reads_in_french_with_french_numbers():
    stored = simulation_report.summary(paid_result())["figures"]
    with override("fr"):
        rows = simulation_report.figure_rows(stored)
    assert (rows[0].name, rows[0].value, rows[0].goal) == (
        "τ de Kendall moyen, qualité cachée contre classement",
        "0,859",
        "≥&nbsp;0,8",
    )
    assert rows[8].name == "Argent des prix versé (3 cagnottes ; remboursements : 1)"
    assert rows[8].value == "1\N{NO-BREAK SPACE}234,56&nbsp;EUR"  # short: kept on one line
    assert rows[8].measured and not rows[0].measured


def test_numbers_are_written_as_each_language_writes_them():
    with override("en"):
        for value in (0.8594, -0.01234, 1234.5, 0.125, 2.5):
            for form in (".3f", ".2f", ".0f", ",.2f", ".1%", "+.1%"):
                assert localized(value, form) == format(value, form)
    with override("fr"):
        assert localized(0.8594, ".3f") == "0,859"
        assert localized(-0.01234, "+.1%") == "-1,2\N{NO-BREAK SPACE}%"
        assert localized(1234.5, ",.2f") == "1\N{NO-BREAK SPACE}234,50"
    with override("pt-br"):
        assert localized(1234.5, ",.2f") == "1.234,50"


def test_a_count_chooses_its_nouns_form():
    def puppets(count):
        return str(Text.ngettext("{count} puppet", "{count} puppets", count=count))

    with override("en"):
        assert (puppets(1), puppets(40), str(points(1)), str(points(1234))) == (
            "1 puppet", "40 puppets", "1 point", "1,234 points"
        )  # fmt: skip
    with override("fr"):
        assert (puppets(1), puppets(40)) == ("1 faux compte", "40 faux comptes")
    with override("ar"):
        assert [puppets(n) for n in (1, 2, 5, 40)] == [
            "حساب وهمي واحد", "حسابان وهميان", "5 حسابات وهمية", "40 حسابًا وهميًا"
        ]  # fmt: skip


def test_a_captions_note_is_worded_with_its_name():
    report = dataclasses.replace(
        simulation.AdversaryReport(Text("Review bombing")),
        note=Text("{count} established reviewer", {"count": 1}, "{count} established reviewers"),
    )
    with override("en"):
        assert str(report.caption()) == "Review bombing (1 established reviewer)"
    with override("es"):
        assert str(report.caption()) == "Bombardeo de evaluaciones (1 evaluador veterano)"
