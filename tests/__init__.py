"""The test suite. Helpers live in tests/support; their asserts report like a test's."""

import pytest

pytest.register_assert_rewrite("tests.support")
