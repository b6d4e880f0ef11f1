"""The shared exercise library: exercises, body regions and programme
templates kept as TOML next to this package and loaded into the database."""

from exercises.library.loader import LoadResult, load_library, read_library, validate_library

__all__ = ["LoadResult", "load_library", "read_library", "validate_library"]
