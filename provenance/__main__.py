"""``python -m provenance`` runs the command line."""

from provenance.cli.main import main

if __name__ == "__main__":
    main()
