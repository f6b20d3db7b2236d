"""Racing data providers: clients that turn a provider's racecards into plain `RaceCard`s."""
