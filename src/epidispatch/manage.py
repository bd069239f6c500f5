"""The `epidispatch` console script: Django's manage.py, installed with the package."""

import os
import sys

from epidispatch.core import process


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "epidispatch.settings")
    from django.core.management import execute_from_command_line

    process.command_set(sys.argv)
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
