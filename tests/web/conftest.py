from tests.web.apiharness import api, api_each  # noqa: F401 — the API fixtures for every test here
