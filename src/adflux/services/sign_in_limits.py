"""Password guessing is slowed, never turned into a lockout of the real user.

Every sign-in attempt is counted, before the password is checked, against two keys:

* the caller's **address**: after ADFLUX_SIGN_IN_FREE_ATTEMPTS failures each further try must
  wait 1 s, then 2, 4, ... up to ADFLUX_SIGN_IN_MAX_DELAY_ADDRESS_SECONDS (15 min): the guessing
  address slows itself down, nobody else;
* the **account**, for browsers that never signed in to it: the same doubling, but capped at
  ADFLUX_SIGN_IN_MAX_DELAY_ACCOUNT_SECONDS (30 s), so guesses spread over many addresses are
  slowed while the real user waits seconds, not a lockout. A browser that signed in to the
  account before carries a *trusted device* cookie and is counted on its own key only (not on
  the address or the account): other people's guesses, even from the same address or proxy,
  never slow it at all.

A too-early try is refused (429 with Retry-After) without checking the password and without
counting; a success forgets the account's (or device's) failures and takes its own attempt
back from the address. The counting is one atomic step per key (see rate_limits), so parallel
guesses cannot slip past the count. If the counter store (Redis) is down, attempts go through
uncounted and a warning is logged: sign-in does not fail with the store.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adflux.services import rate_limits
from adflux.services.errors import DomainError
from adflux.settings import Settings, current_settings

logger = logging.getLogger(__name__)

# Failures are forgotten this long after the last attempt on a key.
MEMORY_MS = 3600 * 1000


class TooManyAttempts(DomainError):
    """Too many failed sign-ins from this address or for this account: wait, then try again."""

    status = 429
    code = "too_many_requests"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed sign-ins; try again in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class AttemptKeys:
    """Where one attempt is counted: the address key (None for a trusted device) and the account
    (or trusted device) key."""

    address: str | None
    account: str
    account_cap_ms: int


def keys_for(
    *, email: str, address: str | None, trusted_device: str | None, settings: Settings
) -> AttemptKeys:
    """The keys of an attempt; `trusted_device` is the device id of a valid cookie for this account."""
    if trusted_device:
        # Only the device's own guesses count against it: not its address (a shared NAT or proxy
        # an attacker also uses) and not the account's other browsers.
        return AttemptKeys(
            None, f"signin:device:{trusted_device}", settings.sign_in_max_delay_address_seconds * 1000
        )
    cap = settings.sign_in_max_delay_account_seconds
    return AttemptKeys(f"signin:address:{address or 'unknown'}", f"signin:account:{email}", cap * 1000)


def claim_attempt(keys: AttemptKeys, settings: Settings | None = None) -> None:
    """Count an attempt on both keys, or raise TooManyAttempts (nothing counted) if it is too early."""
    settings = settings or current_settings()
    try:
        _claim(keys, settings)
    except TooManyAttempts:
        raise
    except Exception as exc:  # the counter store is down: sign-in must not go down with it
        logger.warning("Sign-in attempt not counted (counter store unavailable: %s)", exc)


def _claim(keys: AttemptKeys, settings: Settings) -> None:
    store = rate_limits.store(settings)
    free, now = settings.sign_in_free_attempts, rate_limits.now_ms()
    address_cap = settings.sign_in_max_delay_address_seconds * 1000
    if keys.address is not None:
        wait = store.claim(keys.address, free, address_cap, now, MEMORY_MS)
        if wait:
            raise TooManyAttempts(rate_limits.Verdict.wait(wait).retry_after)
    wait = store.claim(keys.account, free, keys.account_cap_ms, now, MEMORY_MS)
    if wait:
        if keys.address is not None:
            store.refund(keys.address)  # refused before any check: not a guess
        raise TooManyAttempts(rate_limits.Verdict.wait(wait).retry_after)


def attempt_succeeded(keys: AttemptKeys, settings: Settings | None = None) -> None:
    """The password was right: the account's failures are forgotten, the address gets its try back."""
    try:
        store = rate_limits.store(settings or current_settings())
        store.reset(keys.account)
        if keys.address is not None:
            store.refund(keys.address)
    except Exception as exc:
        logger.warning("Sign-in success not recorded (counter store unavailable: %s)", exc)
