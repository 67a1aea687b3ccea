# SPDX-License-Identifier: BSD-3-Clause
"""What esp_interop.py and ah_interop.py share: the unit test that writes
tollgate's protected packets (TG_ESP_DUMP / TG_AH_DUMP), run once with
its dump in a temporary folder, and the count of checks.

Importing it puts test/unit/data on sys.path (gen_esp, gen_ah).
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "test/unit/data")
sys.path.insert(0, DATA)

from scapy.utils import rdpcap  # noqa: E402


def run(unit, bin_var, dump_var, proto, count, checks):
    """Run the unit test `unit` (the build's, or the path in the
    environment variable `bin_var`) with `dump_var` naming a pcap; check
    that it passed and wrote `count` packets of `proto` ("ESP", "AH"),
    then checks(check, frames, dump) for the rest, where check(name, ok,
    detail="") counts one check. Prints each failure (each pass too with
    -v) and the totals; returns the exit status."""
    binary = os.environ.get(bin_var,
                            os.path.join(ROOT, "build/test/unit", unit))
    verbose = "-v" in sys.argv
    passed = failed = 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            if verbose:
                print("ok    " + name)
        else:
            failed += 1
            print("FAIL  %s %s" % (name, detail))

    if not os.access(binary, os.X_OK):
        print("FAIL  build: %s not found: run ./scripts/build.sh" % binary)
        print("0 passed, 1 failed")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        dump = os.path.join(tmp, "tollgate_%s.pcap" % proto.lower())
        env = dict(os.environ, **{dump_var: dump})
        ran = subprocess.run([binary], env=env, capture_output=True,
                             text=True)
        check(unit + " ran", ran.returncode == 0, ran.stdout[-2000:])
        frames = rdpcap(dump) if os.path.exists(dump) else []
        check("%d %s packets written" % (count, proto),
              len(frames) == count, "got %d" % len(frames))
        checks(check, frames, dump)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1
