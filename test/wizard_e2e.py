#!/usr/bin/env python3
"""End to end: the setup wizard in line mode (the Forth word WIZARD) on a
sermux shell of the hosted kernel (no network: the model list and the
connection test fail, and the wizard says why). Answers: a static
address (a bad one refused first, the netmask's default kept), openai,
an API key never echoed in clear, a base URL (a bad one refused), the model
typed, the connection test's error, /back to the provider, local,
saved: the settings file then holds what was chosen (read back by
SETTINGS after a restart, and as TOML), and the restarted kernel's
network (--net slirp) takes the saved static address; /skip leaves the settings alone
but for wizard_done. TAP output."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mneme_host import Hosted, KernelGone, Mux, StepFailed, Tap  # noqa: E402

OK = rb" ok\r\n"
Q = rb"\? "
tap = Tap()
check = tap.check


def boot(settings, *more):
    k = Hosted("--settings", settings, *more, heap="32M")
    m = Mux(k)
    m.expect(10, rb"mneme Forth\r\n ok\r\n", 60)
    return k, m


def wizard(m):
    r = m.run(10, "WIZARD\n", Q, 30)
    check(b"-- setup: Network --" in r and b"1. DHCP" in r, f"WIZARD asks about the network: {r!r}")
    r = m.run(10, "2\n", Q)
    check(b"-- setup: Address --" in r, f"static: the address: {r!r}")
    r = m.run(10, "10.0.2.300\n", Q)
    check(b"is not an IPv4 address" in r and b"-- setup: Address --" in r,
          f"a bad address is refused: {r!r}")
    m.run(10, "10.0.2.50\n", Q)
    r = m.run(10, "\n", Q)  # the netmask's default
    check(b"-- setup: Gateway --" in r, f"the netmask's default kept: {r!r}")
    m.run(10, "10.0.2.2\n", Q)
    r = m.run(10, "10.0.2.3\n", Q)
    check(b"-- setup: Provider --" in r and b"6. local" in r, f"the provider list: {r!r}")
    r = m.run(10, "openai\n", Q)
    check(b"API key for openai" in r, f"the API key: {r!r}")
    r = m.run(10, "sk-e2e-SECRET-9876\n", Q)
    # a line sent whole is not echoed (the line editor's AUTO mode); typed
    # on a terminal the key would be echoed as '*': either way never in clear
    check(b"SECRET" not in r, f"the key is not echoed in clear: {r!r}")
    check(b"-- setup: Base URL --" in r, f"the base URL: {r!r}")
    r = m.run(10, "ftp://nowhere\n", Q)
    check(b"starts with http:// or https://" in r, f"a bad base URL is refused: {r!r}")
    r = m.run(10, "http://10.0.2.2:9/v1\n", Q, 120)
    check(b"no model list (" in r and b"type the model's name" in r,
          f"no model list without a network, and why: {r!r}")
    r = m.run(10, "gpt-e2e\n", rb"\[Enter saves\] ", 120)
    check(b"connection failed: " in r and b"key ...9876" in r,
          f"the connection test's error and the key's last four: {r!r}")
    r = m.run(10, "/back\n", Q)
    check(b"-- setup: Provider --" in r, f"/back: the provider again: {r!r}")
    r = m.run(10, "6\n", rb"\[Enter saves\] ")
    check(b"no connection needed" in r, f"local: {r!r}")
    r = m.run(10, "\n", OK)
    check(b"[settings saved]" in r, f"saved: {r!r}")


def read_back(m, path):
    r = m.run(10, "SETTINGS\n", OK)
    check(b"provider local" in r and b"model gpt-e2e" in r and b"api_key ...9876" in r
          and b"dhcp 0" in r and b"wizard_done 1" in r and b"SECRET" not in r,
          f"after a restart SETTINGS shows the wizard's choices: {r!r}")
    text = open(path).read()
    check('ip = "10.0.2.50"' in text and 'netmask = "255.255.255.0"' in text and
          'gateway = "10.0.2.2"' in text and 'base_url = "http://10.0.2.2:9/v1"' in text,
          "the settings file holds the network and the base URL")
    r = m.run(10, "WIZARD\n", Q, 30)
    r = m.run(10, "/skip\n", OK)
    check(b"[setup skipped]" in r, f"/skip: {r!r}")
    r = m.run(10, "SETTINGS\n", OK)
    check(b"model gpt-e2e" in r and b"wizard_done 1" in r, f"/skip keeps the settings: {r!r}")
    r = m.run(10, "2 3 + .\n", OK)
    check(b"5 " in r, "Forth answers after WIZARD")


def main():
    d = tempfile.mkdtemp(prefix="mneme-wizard-")
    path = os.path.join(d, "settings.toml")
    try:
        k, m = boot(path)
        try:
            tap.step("wizard", wizard, m)
        finally:
            k.stop()
        k, m = boot(path, "--net", "slirp")
        try:
            lm = k.wait_log(rb"net: the saved settings' static address [0-9.]+, gateway [0-9.]+")
            check(b"10.0.2.50, gateway 10.0.2.2" in lm.group(0),
                  f"the network starts with the saved static address: {lm.group(0)!r}")
            tap.step("read back", read_back, m, path)
            check(all(b"SECRET" not in line for line in k.lines), "the key never reaches the log")
            check(k.alive(), "kernel still running")
        finally:
            k.stop()
    except (KernelGone, StepFailed) as e:
        if not getattr(e, "reported", False):
            check(False, str(e))
    print(f"# {tap.passed} passed, {tap.failed} failed")
    return tap.exit_code()


if __name__ == "__main__":
    sys.exit(main())
