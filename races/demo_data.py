"""Synthetic demo data as plain values: courses, horses, jockeys, trainers and a season of races.

Every horse has a hidden ability that only drives the simulation and never reaches the database.
The market prices each runner from that ability plus noise, and the finishing order is drawn from
the ability plus race noise (Plackett-Luce through Gumbel sampling), so the odds carry information
and a model has something to learn.

Each day's card is a function of the seed and that day alone: the same race keeps its runners and
prices when it moves from the declared window into the history, and re-seeding on a later day only
adds the new days and settles the ones that have been run. The one exception is age, which is
pinned to the year of the run so that the demo horses never grow old: the first seed of a new year
rewrites the age of every stored run.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import math
import random
from decimal import Decimal

from races.models import Horse, Race

DEMO_CURRENCY = "GBP"
OVERROUND = 1.20

HORSE_COUNT = 300
JOCKEY_COUNT = 25
TRAINER_COUNT = 20

# How strongly each hidden quantity moves a runner's log-odds of winning.
ABILITY_WEIGHT = 2.6
MARKET_NOISE = 0.35
PERSON_SKILL_SD = 0.15
HANDICAP_WEIGHT_PER_LB = 0.04

# (external id, code, name, surface, first post time in UTC)
COURSES = (
    ("demo-course-1", "ASH", "Ashcombe Park", Race.Surface.TURF, datetime.time(13, 30)),
    ("demo-course-2", "BRM", "Bramblemoor", Race.Surface.TURF, datetime.time(14, 0)),
    ("demo-course-3", "KSV", "Kestrel Vale", Race.Surface.TURF, datetime.time(13, 45)),
    ("demo-course-4", "LNW", "Lanthorn Wells", Race.Surface.ALL_WEATHER, datetime.time(17, 30)),
)
DISTANCES_M = {
    Race.Surface.TURF: (1000, 1200, 1400, 1600, 2000, 2400, 2800),
    Race.Surface.ALL_WEATHER: (1000, 1200, 1400, 1600, 2000, 2400),
}
# (going, softness used by the ground preference, speed factor, weight in the draw)
GOINGS = {
    Race.Surface.TURF: (
        (Race.Going.FIRM, -1.0, 1.015, 1),
        (Race.Going.GOOD_TO_FIRM, -0.5, 1.008, 3),
        (Race.Going.GOOD, 0.0, 1.0, 4),
        (Race.Going.GOOD_TO_SOFT, 0.5, 0.985, 3),
        (Race.Going.SOFT, 1.0, 0.97, 2),
        (Race.Going.HEAVY, 1.5, 0.95, 1),
    ),
    Race.Surface.ALL_WEATHER: (
        (Race.Going.STANDARD, 0.0, 1.0, 5),
        (Race.Going.STANDARD_TO_SLOW, 0.3, 0.985, 1),
    ),
}
# (class, lowest rating, highest rating, prize, weight in the draw)
CLASSES = (
    ("Class 2", 86, 105, 25000, 1),
    ("Class 3", 76, 95, 12000, 2),
    ("Class 4", 66, 85, 7000, 3),
    ("Class 5", 56, 75, 4500, 3),
    ("Class 6", 40, 65, 3500, 2),
)
MARGINS_L = (
    0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75, 3, 3.5, 4, 4.5, 5,
    6, 7, 8, 9, 10, 12, 15, 20,
)  # fmt: skip
SECONDS_PER_LENGTH = 0.2
# Betfair's price ladder in hundredths: (upper bound of the band, tick).
PRICE_TICKS = (
    (200, 1), (300, 2), (400, 5), (600, 10), (1000, 20), (2000, 50), (3000, 100), (5000, 200),
    (10000, 500), (100000, 1000),
)  # fmt: skip

HORSE_WORDS = (
    ("Silver", "Golden", "Midnight", "Northern", "Royal", "Crimson", "Velvet", "Copper", "Amber",
     "Misty", "Dancing", "Quiet", "Wild", "Bold", "Lucky", "Scarlet", "Hidden", "Distant", "Rapid",
     "Gentle", "Winter", "Summer", "Autumn", "Stormy", "Highland", "Starlit", "Iron", "Blue",
     "Shadow", "Morning"),
    ("Harbour", "Arrow", "Comet", "Meadow", "Legend", "Echo", "Voyager", "Whisper", "Spirit",
     "Tide", "Falcon", "Lantern", "Mirage", "Rhythm", "Sonnet", "Beacon", "Horizon", "Thunder",
     "Cascade", "Orchard", "Piper", "Quest", "Ember", "Breeze", "Summit", "Willow", "Compass",
     "Dawn", "Glory", "Rebel"),
)  # fmt: skip
FIRST_NAMES = (
    "Aidan", "Beth", "Callum", "Dara", "Ellis", "Fiona", "Gavin", "Hollie", "Ivan", "Jodie",
    "Kieran", "Lara", "Marcus", "Niamh", "Owen", "Paige", "Rory", "Saffie", "Tomas", "Una",
)  # fmt: skip
SURNAMES = (
    "Ashdown", "Blackwood", "Carrow", "Delaney", "Eastleigh", "Farrant", "Gilmore", "Hargreave",
    "Inchbald", "Jarvis", "Kilbride", "Lomax", "Merriman", "Naylor", "Ormsby", "Pennock",
    "Quayle", "Rushworth", "Stanway", "Thackery", "Upton", "Varley", "Whitcombe", "Yardley",
)  # fmt: skip
HORSE_COUNTRIES = (("GB", 6), ("IRE", 3), ("FR", 1), ("USA", 1))
HORSE_SEXES = ((Horse.Sex.GELDING, 6), (Horse.Sex.MARE, 3), (Horse.Sex.HORSE, 1))
GEARS = ("b", "v", "p", "t", "h", "b,t", "h,t")
# Apprentices, who claim this many pounds off the weight (shown on the card as the jockey's claim).
APPRENTICE_CLAIMS = {"demo-jockey-3": 7, "demo-jockey-11": 5, "demo-jockey-19": 3}


@dataclasses.dataclass(frozen=True)
class DemoCourse:
    external_id: str
    code: str
    name: str
    surface: str
    first_post: datetime.time


@dataclasses.dataclass(frozen=True)
class DemoPerson:
    """A jockey or trainer; `skill` is hidden and only shifts the runners' chances."""

    external_id: str
    name: str
    skill: float


@dataclasses.dataclass(frozen=True)
class DemoHorse:
    """A horse with the hidden traits that drive its results; only the first four are stored."""

    external_id: str
    name: str
    country: str
    sex: str
    ability: float
    form_amplitude: float
    form_period_days: float
    form_phase: float
    best_distance_m: float
    soft_ground_liking: float
    body_weight_lb: int
    gear: str
    trainer: str
    age_this_year: int  # in the calendar year of the day the seed runs
    rest_shift: int

    def form(self, day: datetime.date) -> float:
        """A slow swing around the horse's ability, so recent runs say more than old ones."""
        cycle = 2 * math.pi * day.toordinal() / self.form_period_days + self.form_phase
        return self.form_amplitude * math.sin(cycle)

    def official_rating(self, day: datetime.date) -> int:
        # The handicapper sees the horse's level a few weeks late.
        lagged = self.ability + self.form(day - datetime.timedelta(days=28))
        return round(70 + 12 * lagged)

    def is_rested(self, day: datetime.date) -> bool:
        """Every other day, with the two halves of the string swapping every 30 days."""
        half = ((day.toordinal() + self.rest_shift) // 30) % 2
        return (day.toordinal() + half) % 2 == 0


@dataclasses.dataclass(frozen=True)
class DemoPopulation:
    courses: tuple[DemoCourse, ...]
    horses: tuple[DemoHorse, ...]
    jockeys: tuple[DemoPerson, ...]
    trainers: tuple[DemoPerson, ...]


@dataclasses.dataclass(frozen=True)
class DemoRunner:
    """One Runner row; `horse`, `jockey` and `trainer` are external ids."""

    external_id: str
    horse: str
    jockey: str
    trainer: str
    saddle_number: int
    draw: int
    carried_weight_lb: int
    declared_weight_lb: Decimal
    rating: int
    age: int
    gear: str
    jockey_allowance_lb: int | None
    win_odds: Decimal
    place_odds: Decimal | None
    finish_position: int | None
    lengths_behind: Decimal | None
    finish_time: Decimal | None


@dataclasses.dataclass(frozen=True)
class DemoRace:
    """One Race row with its runners; `racecourse` is an external id."""

    external_id: str
    racecourse: str
    meeting_date: datetime.date
    race_number: int
    post_time: datetime.datetime
    name: str
    distance_m: int
    surface: str
    going: str
    race_class: str
    rating_band: str
    prize: Decimal
    prize_currency: str
    status: str
    runners: tuple[DemoRunner, ...]


@dataclasses.dataclass(frozen=True)
class DemoData:
    population: DemoPopulation
    races: tuple[DemoRace, ...]


def _weighted_choice(rng: random.Random, options: tuple[tuple, ...]) -> tuple:
    return rng.choices(options, weights=[option[-1] for option in options])[0]


def _price_round(odds: float) -> Decimal:
    """Round decimal odds to the nearest tick on the exchange ladder, between 1.01 and 1000."""
    hundredths = max(101, min(100000, round(odds * 100)))
    lower = 100
    for upper, tick in PRICE_TICKS:
        if hundredths <= upper:
            hundredths = lower + round((hundredths - lower) / tick) * tick
            break
        lower = upper
    return (Decimal(hundredths) / 100).quantize(Decimal("0.01"))


def _margin_round(lengths: float) -> float:
    return min(MARGINS_L, key=lambda margin: abs(margin - lengths))


def _softmax(values: list[float]) -> list[float]:
    top = max(values)
    weights = [math.exp(value - top) for value in values]
    total = sum(weights)
    return [weight / total for weight in weights]


def demo_population_generate(*, seed: int) -> DemoPopulation:
    """The courses, and the people and horses that race at them."""
    rng = random.Random(f"hrp-demo:{seed}:population")
    courses = tuple(DemoCourse(*course) for course in COURSES)

    people = rng.sample(
        list(itertools.product(FIRST_NAMES, SURNAMES)), JOCKEY_COUNT + TRAINER_COUNT
    )
    jockeys = tuple(
        DemoPerson(f"demo-jockey-{n}", f"{first} {last}", rng.gauss(0, PERSON_SKILL_SD))
        for n, (first, last) in enumerate(people[:JOCKEY_COUNT], start=1)
    )
    trainers = tuple(
        DemoPerson(f"demo-trainer-{n}", f"{first[0]}. {last}", rng.gauss(0, PERSON_SKILL_SD))
        for n, (first, last) in enumerate(people[JOCKEY_COUNT:], start=1)
    )

    names = rng.sample(list(itertools.product(*HORSE_WORDS)), HORSE_COUNT)
    horses = tuple(
        DemoHorse(
            external_id=f"demo-horse-{n}",
            name=f"{first} {second}",
            country=_weighted_choice(rng, HORSE_COUNTRIES)[0],
            sex=_weighted_choice(rng, HORSE_SEXES)[0],
            ability=max(-2.2, min(2.2, rng.gauss(0, 1))),
            form_amplitude=rng.uniform(0, 0.35),
            form_period_days=rng.uniform(40, 120),
            form_phase=rng.uniform(0, 2 * math.pi),
            best_distance_m=math.exp(rng.uniform(math.log(1000), math.log(2800))),
            soft_ground_liking=rng.uniform(-1, 1),
            body_weight_lb=round(rng.gauss(1050, 50)),
            gear=rng.choice(GEARS) if rng.random() < 0.3 else "",
            trainer=rng.choice(trainers).external_id,
            age_this_year=rng.choice((3, 3, 4, 4, 4, 5, 5, 6, 7, 8)),
            rest_shift=rng.randrange(60),
        )
        for n, (first, second) in enumerate(names, start=1)
    )
    return DemoPopulation(courses=courses, horses=horses, jockeys=jockeys, trainers=trainers)


def _race_generate(
    *,
    rng: random.Random,
    population: DemoPopulation,
    available: list[DemoHorse],
    official: dict[str, int],
    course: DemoCourse,
    day: datetime.date,
    race_number: int,
    going: tuple,
    settled: bool,
    this_year: int,
) -> DemoRace:
    race_class, low, high, prize, _ = _weighted_choice(rng, CLASSES)
    distance_m = rng.choice(DISTANCES_M[course.surface])
    field_size = rng.randint(8, 14)
    going_name, softness, speed_factor, _ = going

    # A handicap is closed to horses rated above its band; when too few are left, the top class
    # (whose ceiling no demo horse reaches) takes whoever is fit.
    eligible = [horse for horse in available if official[horse.external_id] <= high]
    if len(eligible) < field_size:
        race_class, low, high, prize, _ = CLASSES[0]
        eligible = list(available)
    field_size = min(field_size, len(eligible))

    # Fields are made of horses rated near the band and suited by the trip, as entries would be.
    middle = (low + high) / 2
    fit = {
        horse.external_id: abs(official[horse.external_id] - middle) / 10
        + 4 * math.log(distance_m / horse.best_distance_m) ** 2
        + rng.random()
        for horse in eligible
    }
    field = sorted(eligible, key=lambda horse: fit[horse.external_id])[:field_size]
    entered = {horse.external_id for horse in field}
    available[:] = [horse for horse in available if horse.external_id not in entered]

    ratings = [official[horse.external_id] + rng.randint(-3, 3) for horse in field]
    top_rating = max(ratings)
    weights = [max(112, 133 - (top_rating - rating)) for rating in ratings]
    jockeys = rng.sample(population.jockeys, field_size)
    trainers = {trainer.external_id: trainer for trainer in population.trainers}
    draws = rng.sample(range(1, field_size + 1), field_size)
    draw_cost = 0.02 if distance_m <= 1400 else 0.005

    strengths = []
    for horse, jockey, weight, draw in zip(field, jockeys, weights, draws, strict=True):
        strengths.append(
            ABILITY_WEIGHT * (horse.ability + horse.form(day))
            - 2.5 * math.log(distance_m / horse.best_distance_m) ** 2
            + 0.3 * horse.soft_ground_liking * softness
            + jockey.skill
            + trainers[horse.trainer].skill
            - HANDICAP_WEIGHT_PER_LB * (weight - 112)
            - draw_cost * (draw - 1)
        )

    market = _softmax([strength + rng.gauss(0, MARKET_NOISE) for strength in strengths])
    win_odds = [_price_round(1 / (p * OVERROUND)) for p in market]
    place_fraction = 4 if field_size < 12 else 5

    gumbel = [-math.log(-math.log(rng.random() or 1e-12)) for _ in field]
    order = sorted(range(field_size), key=lambda i: strengths[i] + gumbel[i], reverse=True)
    speed = (17.2 - 0.45 * distance_m / 1000) * speed_factor * (1 + rng.gauss(0, 0.008))
    winner_time = distance_m / speed
    positions, lengths = {}, {}
    behind = 0.0
    for position, index in enumerate(order, start=1):
        if position > 1:
            previous = order[position - 2]
            gap = rng.expovariate(1.0) * (0.6 + 0.15 * position)
            gap += max(0.0, strengths[previous] - strengths[index])
            behind += _margin_round(gap)
        positions[index] = position
        lengths[index] = behind

    # Handicaps are numbered from the top weight down.
    saddle_order = sorted(range(field_size), key=lambda i: (-weights[i], field[i].name))
    race_id = f"demo-race-{course.code}-{day:%Y%m%d}-{race_number}"
    runners = []
    for saddle_number, i in enumerate(saddle_order, start=1):
        horse = field[i]
        place = _price_round(1 + (float(win_odds[i]) - 1) / place_fraction)
        runners.append(
            DemoRunner(
                external_id=f"{race_id}-{saddle_number}",
                horse=horse.external_id,
                jockey=jockeys[i].external_id,
                trainer=horse.trainer,
                saddle_number=saddle_number,
                draw=draws[i],
                carried_weight_lb=weights[i],
                declared_weight_lb=Decimal(horse.body_weight_lb + rng.randint(-8, 8)),
                rating=ratings[i],
                age=horse.age_this_year + day.year - this_year,
                gear=horse.gear if rng.random() < 0.8 else "",
                jockey_allowance_lb=APPRENTICE_CLAIMS.get(jockeys[i].external_id),
                win_odds=win_odds[i],
                place_odds=place if settled else None,
                finish_position=positions[i] if settled else None,
                lengths_behind=Decimal(f"{lengths[i]:.2f}") if settled else None,
                finish_time=(
                    Decimal(f"{winner_time + lengths[i] * SECONDS_PER_LENGTH:.2f}")
                    if settled
                    else None
                ),
            )
        )

    first_post = datetime.datetime.combine(day, course.first_post, tzinfo=datetime.UTC)
    return DemoRace(
        external_id=race_id,
        racecourse=course.external_id,
        meeting_date=day,
        race_number=race_number,
        post_time=first_post + datetime.timedelta(minutes=30 * (race_number - 1)),
        name="Demo Handicap",
        distance_m=distance_m,
        surface=course.surface,
        going=going_name,
        race_class=race_class,
        rating_band=f"{low}-{high}",
        prize=Decimal(prize).quantize(Decimal("0.01")),
        prize_currency=DEMO_CURRENCY,
        status=Race.Status.RESULT if settled else Race.Status.DECLARED,
        runners=tuple(runners),
    )


def demo_day_generate(
    *, seed: int, population: DemoPopulation, day: datetime.date, today: datetime.date
) -> tuple[DemoRace, ...]:
    """One meeting a day, the courses taking turns; settled when `day` is before `today`."""
    # Everything is drawn whether or not the day is settled, so a declared card turns into the
    # same race with a result once its day has passed.
    rng = random.Random(f"hrp-demo:{seed}:{day.isoformat()}")
    course = population.courses[day.toordinal() % len(population.courses)]
    going = _weighted_choice(rng, GOINGS[course.surface])
    available = [horse for horse in population.horses if not horse.is_rested(day)]
    official = {horse.external_id: horse.official_rating(day) for horse in available}
    return tuple(
        _race_generate(
            rng=rng,
            population=population,
            available=available,
            official=official,
            course=course,
            day=day,
            race_number=race_number,
            going=going,
            settled=day < today,
            this_year=today.year,
        )
        for race_number in range(1, rng.randint(6, 8) + 1)
    )


def demo_data_generate(
    *, seed: int, today: datetime.date, days_ahead: int, history_days: int
) -> DemoData:
    """The whole demo data set as plain values, without touching the database."""
    population = demo_population_generate(seed=seed)
    races = []
    for offset in range(-history_days, days_ahead + 1):
        day = today + datetime.timedelta(days=offset)
        races.extend(demo_day_generate(seed=seed, population=population, day=day, today=today))
    return DemoData(population=population, races=tuple(races))
