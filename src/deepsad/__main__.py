"""``python -m deepsad`` is the ``deepsad`` command."""

from deepsad.cli import main

main(prog_name="deepsad")
