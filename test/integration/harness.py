# SPDX-License-Identifier: BSD-3-Clause
"""Pieces shared by the integration test scripts.

report() prints "PASS name" or "FAIL name: why" and counts it; finish()
prints the final "N passed, N failed" line and returns the exit status
(1 if anything failed). Results does the same for scripts that take -k
SUBSTRING and report a list of problems per case. write_pcap() writes
the input pcaps of a net_pcap port. start_tollgate() and stop_tollgate()
run tollgate on a configuration file and stop it with SIGINT. Import it from a script in
test/integration (its folder is on sys.path when the script runs):

    from harness import finish, report  # noqa: E402
"""
import signal
import struct
import subprocess
import sys

passed = failed = 0


def report(name, ok, why=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS %s" % name)
    else:
        failed += 1
        print("FAIL %s: %s" % (name, why))


def finish():
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


class Results:
    """PASS/FAIL per case (only those -k selects), then the final line."""

    def __init__(self, only=None):
        self.passed = 0
        self.failed = 0
        self.only = only

    def wanted(self, name):
        return self.only is None or any(o in name for o in self.only)

    def part_wanted(self, part):
        """Whether a part (cases named part.*) has a case -k may select."""
        return self.only is None or any(o in part or o.startswith(part)
                                        for o in self.only)

    def report(self, name, problems):
        if not self.wanted(name):
            return
        if problems:
            self.failed += 1
            print("FAIL %s: %s" % (name, problems[0]))
            for extra in problems[1:]:
                print("     " + str(extra).replace("\n", "\n     "))
        else:
            self.passed += 1
            print("PASS %s" % name)
        sys.stdout.flush()

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, i, len(fr), len(fr)))
            f.write(fr)


def start_tollgate(tollgate, config, prefix, cwd):
    """tollgate -c CONFIG with EAL file prefix PREFIX; stdout and stderr
    together, as text, for stop_tollgate()."""
    return subprocess.Popen([tollgate, "-c", config, "--", "--file-prefix",
                             prefix], cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True)


def stop_tollgate(p, timeout=20):
    """SIGINT (if still running), wait (kill after TIMEOUT seconds);
    → everything it printed. Its exit status is p.returncode."""
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    return out
