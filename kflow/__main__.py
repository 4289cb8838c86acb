"""``python -m kflow``."""

from kflow.cli import main

if __name__ == "__main__":
    main()
