"""Random sequences of every operation; after each step every invariant still holds and the
balances match a plain Python model of the rules."""

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from economy import EconomyError, Ledger
from economy.localdays import LocalDays

USERS = st.integers(1, 4)
AMOUNTS = st.sampled_from([-1, 0, 1, 5, 10, 25, 60, 120])
ITEMS = st.sampled_from(["vip", "boost", "badge", "dm", "content:a", "content:b", "content:zz", "yacht"])
OPS = st.one_of(
    st.tuples(st.just("register"), USERS), st.tuples(st.just("daily"), USERS),
    st.tuples(st.just("grant"), USERS, AMOUNTS), st.tuples(st.just("convert"), USERS, st.none() | AMOUNTS),
    st.tuples(st.just("buy"), USERS, ITEMS), st.tuples(st.just("raise_quota"), USERS, AMOUNTS),
    st.tuples(st.just("lower_quota"), USERS, AMOUNTS), st.tuples(st.just("charge"), USERS, AMOUNTS),
    st.tuples(st.just("refund"), USERS, AMOUNTS), st.tuples(st.just("advance"), st.integers(1, 3 * 86400)),
)
PRICES = {"vip": 25, "boost": 5, "badge": 50, "dm": 15, "content": 10}


DAYS = LocalDays()


class Model:
    def __init__(self) -> None:
        self.users: dict[int, dict] = {}

    def apply(self, op: tuple, now: int) -> bool:
        """Apply `op` to the model; return whether it should succeed."""
        name, user, *rest = op
        u = self.users.get(user)
        if name == "register":
            if u is None:
                self.users[user] = {"xp": 50, "tokens": 0, "quota": 0, "used": 0, "owned": set(), "day": None, "boost": 0}
            return True
        if u is None:
            return False
        arg = rest[0] if rest else None
        if name == "daily":  # local days (Europe/Istanbul); a streak pays 5 XP a day beyond the first, up to 6
            today = DAYS.day(now)
            if u["day"] is not None and u["day"] >= today:
                return False
            u["streak"] = u.get("streak", 0) + 1 if u["day"] == today - 1 else 1
            u["day"] = today
            u["xp"] += (40 if u["boost"] > now else 20) + 5 * (min(u["streak"], 6) - 1)
            return True
        if name != "buy" and arg is not None and arg <= 0:
            return False
        if name == "grant":
            u["xp"] += arg
        elif name == "convert":
            n = u["xp"] if arg is None else arg
            if n == 0 or n > u["xp"]:
                return False
            u["xp"] -= n
            u["tokens"] += n
        elif name == "buy":
            code, _, ref = arg.partition(":")
            if code not in PRICES or (code == "content" and ref not in ("a", "b")) or arg in u["owned"]:
                return False
            if u["tokens"] < PRICES[code]:
                return False
            u["tokens"] -= PRICES[code]
            if code == "boost":
                u["boost"] = max(u["boost"], now) + 86400
            elif code != "dm":
                u["owned"].add(arg)
        elif name == "raise_quota":
            u["quota"] += arg
        elif name == "lower_quota":
            if u["quota"] - arg < u["used"]:
                return False
            u["quota"] -= arg
        elif name == "charge":
            if u["used"] + arg > u["quota"]:
                return False
            u["used"] += arg
        elif name == "refund":
            if arg > u["used"]:
                return False
            u["used"] -= arg
        return True


async def play(ops: list[tuple], url: str) -> None:
    now = [1_795_305_600.0]
    ledger = await Ledger.open(url, clock=lambda: now[0])
    try:
        await ledger.add_content("a", title="A", media="document", file_ref="a")
        await ledger.add_content("b", title="B", media="document", file_ref="b")
        model = Model()
        # Users 1-3 start registered with tokens and a quota so most steps do something;
        # user 4 exists only if drawn.
        start = [(name, u, *args) for u in (1, 2, 3) for name, *args in
                 (("register",), ("grant", 100), ("convert", 100), ("raise_quota", 120), ("charge", 25))]
        for op in start + ops:
            if op[0] == "advance":
                now[0] += op[1]
                continue
            expected = model.apply(op, int(now[0]))
            name, user, *rest = op
            args = list(rest)
            if name == "buy":
                code, _, ref = rest[0].partition(":")
                args = [code, ref]
            try:
                await getattr(ledger, name)(user, *args)
                ok = True
            except EconomyError:
                ok = False
            assert ok == expected, op
            assert await ledger.verify() == []
        for user, u in model.users.items():
            b = await ledger.balance(user)
            assert (b.xp, b.tokens, b.credit_quota, b.credit_used) == (u["xp"], u["tokens"], u["quota"], u["used"])
    finally:
        await ledger.close()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, min_size=10, max_size=50))
def test_random_sequences_keep_every_invariant(fresh_url, ops):
    asyncio.run(play(ops, fresh_url()))
