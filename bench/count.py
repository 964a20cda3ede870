"""Small database chores for the benchmark, run in the app's environment.

`python -m bench.count ROOM_ID` prints how many contributions the room holds;
`python -m bench.count --empty` empties the configured PostgreSQL database first."""

from __future__ import annotations

import sys

from sqlalchemy import func, select, text

from statements import create_app
from statements.models import Contribution


def main() -> None:
    """Count, or empty."""
    app = create_app()
    with app.app_context():
        database = app.extensions["db"]
        if sys.argv[1] == "--empty":
            with database.engine.begin() as connection:
                # Only a database that is empty or was the benchmark's before: never a real one.
                if connection.execute(text("SELECT to_regclass('public.accounts')")).scalar():
                    names = connection.execute(text("SELECT username FROM accounts")).scalars()
                    if set(names) - {None, "bench-coordinator"}:
                        raise SystemExit(
                            "that database holds real accounts: give the benchmark its own"
                        )
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            return
        with database.sessionmaker() as db:
            count = db.scalar(
                select(func.count())
                .select_from(Contribution)
                .where(Contribution.room_id == sys.argv[1])
            )
        print(count)


if __name__ == "__main__":
    main()
