"""What a service's engine runs: its statements and COMMITs, for tests of how a hot path talks to its database."""

from sqlalchemy import event


class Statements:
    """The statements the service's engine runs, and its COMMITs."""

    def __init__(self, engine):
        self.sql: list[str] = []
        self.commits = 0
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, stmt, *_a: self.sql.append(" ".join(stmt.split())))
        event.listen(engine, "commit", lambda _c: setattr(self, "commits", self.commits + 1))

    def reset(self) -> None:
        self.sql, self.commits = [], 0

    def starting(self, prefix: str) -> list[str]:
        return [s for s in self.sql if s.upper().startswith(prefix.upper())]
