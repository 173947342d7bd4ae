"""Runs a unittest suite (psycopg2's tests.test_suite()) and writes each test's outcome as JSON.

usage: python3 unittest_json.py SUITE_DIR OUT.json

The suite's own runner prints a verbose report that notices and warnings can break across lines;
recording the outcome per test id from a TestResult is exact. Outcomes: pass, fail, skip.
"""
import json
import sys
import unittest

suite_dir, out = sys.argv[1], sys.argv[2]
sys.path.insert(0, suite_dir)
import tests  # noqa: E402  (the suite's package, found in SUITE_DIR)

outcomes = {}


class Recorder(unittest.TextTestResult):
    def addSuccess(self, test):
        super().addSuccess(test)
        outcomes[test.id()] = "pass"

    def addFailure(self, test, err):
        super().addFailure(test, err)
        outcomes[test.id()] = "fail"

    def addError(self, test, err):
        super().addError(test, err)
        outcomes[test.id()] = "fail"

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        outcomes[test.id()] = "skip"

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        outcomes[test.id()] = "pass"

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        outcomes[test.id()] = "fail"


runner = unittest.TextTestRunner(verbosity=2, resultclass=Recorder, stream=sys.stdout)
runner.run(tests.test_suite())
with open(out, "w") as f:
    json.dump(outcomes, f, indent=0, sort_keys=True)
