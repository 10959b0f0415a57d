"""Run localstripe, the fake Stripe server, without its slow save-to-disk on every write.

    python -m buyflow.dev.localstripe_server --port 8420

localstripe pickles its whole store to a file after each write, which makes a test run
slower with every request; its state is thrown away between runs here anyway.
"""

import sys


def main(argv: list[str] | None = None) -> None:
    from localstripe import resources, server

    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None
    sys.argv = ["localstripe", *(sys.argv[1:] if argv is None else argv)]
    server.start()


if __name__ == "__main__":
    main()
