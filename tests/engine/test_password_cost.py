"""The password hashing cost: full by default, low only when asked for (the test suite)."""

import subprocess
import sys


def _parameters(env_value: str | None) -> str:
    code = ("from engine.identity import hash_password; h = hash_password('pw'); "
            "print(h.split('$')[3])")
    env = {"PATH": "/usr/bin:/bin"}
    if env_value is not None:
        env["MADOGUCHI_PASSWORD_HASH_COST"] = env_value
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_default_cost_is_the_librarys_recommendation():
    assert _parameters(None) == "m=65536,t=3,p=4"


def test_low_cost_is_only_used_when_asked_for_and_both_kinds_verify():
    assert _parameters("low") == "m=1024,t=1,p=1"
    from argon2 import PasswordHasher

    from engine.identity import check_password

    assert check_password(PasswordHasher().hash("pw"), "pw")
    assert check_password(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash("pw"), "pw")
    assert not check_password(PasswordHasher().hash("pw"), "other")
