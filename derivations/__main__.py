"""``python -m derivations``: the command ``soft-targets`` (:mod:`derivations.cli`), run as a module.

With no command it prints every claim's verdict (``verify``), exiting 0 when every claim's evidence supports its
verdict, 1 otherwise; ``python -m derivations run`` executes the notebooks; ``--help`` lists the commands.
"""
from derivations.cli import console

if __name__ == "__main__":
    console(prog="python -m derivations")
