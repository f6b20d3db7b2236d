"""What the prediction commands share: argument types and the progress of long runs."""

import argparse
import datetime
import sys

from django.core.management.base import BaseCommand

from predictions.services.base import Progress, quiet


def iso_date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in YYYY-MM-DD form") from None


def terminal_progress(command: BaseCommand) -> Progress:
    """Progress lines on the command's stderr when that is a terminal; none in scripts and logs."""
    return command.stderr.write if sys.stderr.isatty() else quiet
