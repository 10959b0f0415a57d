"""Run localstripe, the fake Stripe server, as Buyflow's development and tests need it.

    python -m buyflow.dev.localstripe_server --port 8420

localstripe pickles its whole store to a file after each write, which makes a test run
slower with every request; its state is thrown away between runs here anyway, so that is
switched off. The patches of ``buyflow.dev.localstripe_shim`` make it behave as Stripe
documents where localstripe does not (idempotency keys, list filters, refund events).
"""

import sys


def main(argv: list[str] | None = None) -> None:
    from localstripe import resources, server

    from buyflow.dev import localstripe_shim

    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None
    localstripe_shim.install()
    sys.argv = ["localstripe", *(sys.argv[1:] if argv is None else argv)]
    server.start()


if __name__ == "__main__":
    main()
