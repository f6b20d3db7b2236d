"""How many places pay in a race: the place terms a card shows and place chances are computed for.

A racecourse names its terms (`Racecourse.place_terms`); a blank one takes its data provider's
(`PROVIDER_TERMS`), and British and Irish each-way terms where the provider has none. Each set of
terms is a list of (fewest starters, places) steps, the last step that the field reaches applies.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import ExternalRecord, Race, Racecourse

Terms = Racecourse.PlaceTerms

# (fewest starters, places paid): the last step the field reaches applies.
STEPS: dict[str, list[tuple[int, int]]] = {
    # Each-way: none for 4 runners or fewer, 2 places for 5-7, 3 for 8 or more.
    Terms.BRITISH: [(0, 0), (5, 2), (8, 3)],
    # The Hong Kong Jockey Club's place pool: 2 places for 4-6 starters, 3 for 7 or more.
    Terms.HONG_KONG: [(0, 0), (4, 2), (7, 3)],
}
# Handicaps of this many starters or more pay one place more under British terms.
BIG_HANDICAP = {Terms.BRITISH: (16, 4)}

PROVIDER_TERMS = {ExternalRecord.Source.HKRACING: Terms.HONG_KONG}
DEFAULT_TERMS = Terms.BRITISH


@dataclass(frozen=True)
class PlaceTerms:
    places: int  # 0: no place betting
    field_size: int
    terms: str  # a Racecourse.PlaceTerms value

    @property
    def description(self) -> str:
        if not self.places:
            return f"No place terms with {self.field_size} runners"
        return f"Place pays the first {self.places} ({self.field_size} runners)"


def terms_of(*, racecourse_terms: str, source: str) -> str:
    return racecourse_terms or PROVIDER_TERMS.get(source, DEFAULT_TERMS)


def places_paid(*, field_size: int, handicap: bool, terms: str) -> int:
    """How many places pay for a field of `field_size` starters under `terms`."""
    places = 0
    for fewest, paid in STEPS[terms]:
        if field_size >= fewest:
            places = paid
    big = BIG_HANDICAP.get(terms)
    if handicap and big and field_size >= big[0]:
        places = big[1]
    return places


def race_place_terms(*, race: Race, field_size: int) -> PlaceTerms:
    """The terms of `race` (its racecourse loaded) for a field of `field_size` starters."""
    terms = terms_of(racecourse_terms=race.racecourse.place_terms, source=race.source)
    return PlaceTerms(
        places=places_paid(field_size=field_size, handicap=race.is_handicap, terms=terms),
        field_size=field_size,
        terms=terms,
    )
