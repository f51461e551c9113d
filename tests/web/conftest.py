from tests.web.apiharness import api  # noqa: F401 — the API fixture for every test here
