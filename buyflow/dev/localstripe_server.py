"""Run localstripe, the fake Stripe server, as Buyflow's development and tests need it.

    python -m buyflow.dev.localstripe_server --port 8420 [--keep-in FILE]

localstripe pickles its whole store to a file after each write, which makes a test run
slower with every request; the tests throw its state away anyway, so by default nothing
is kept. ``--keep-in FILE`` keeps the store in FILE across restarts instead (what
``scripts/run.sh`` does, next to the SQLite database that names its customers and
charges). The patches of ``buyflow.dev.localstripe_shim`` make it behave as Stripe
documents where localstripe does not (idempotency keys, list filters, refund events), and
those of ``buyflow.dev.card_expiry`` take card expiry dates as Stripe does.
"""

import argparse
import pickle
import sys


def main(argv: list[str] | None = None) -> None:
    from localstripe import resources, server

    from buyflow.dev import card_expiry, localstripe_shim

    ours = argparse.ArgumentParser(add_help=False)
    ours.add_argument("--keep-in")
    options, rest = ours.parse_known_args(sys.argv[1:] if argv is None else argv)
    if options.keep_in:
        _keep_store_in(resources.Store, options.keep_in)
    else:
        resources.Store.dump_to_disk = lambda self: None
        resources.Store.try_load_from_disk = lambda self: None
    localstripe_shim.install()
    card_expiry.install()
    sys.argv = ["localstripe", *rest]
    server.start()


def _keep_store_in(store_class, path: str) -> None:
    """Load and save localstripe's store in ``path`` rather than its fixed /tmp file."""

    def load(self):
        try:
            with open(path, "rb") as f:
                self.clear()
                # localstripe's own store, written by itself in the instance folder
                self.update(pickle.load(f))  # nosec B301
        except FileNotFoundError:
            pass

    def dump(self):
        with open(path, "wb") as f:
            pickle.dump(self, f, protocol=pickle.HIGHEST_PROTOCOL)

    store_class.try_load_from_disk = load
    store_class.dump_to_disk = dump


if __name__ == "__main__":
    main()
