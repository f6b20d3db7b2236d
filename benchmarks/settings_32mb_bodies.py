"""The settings before issue 14, for benchmarks/bench_body_memory.py's baseline: the project's
settings with Django's request body limits raised to 32 MB, as they were."""

from hrp_site.settings import *  # noqa: F403

DATA_UPLOAD_MAX_MEMORY_SIZE = 32 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 32 * 1024 * 1024
