"""The tracking store survives its file, or the whole data folder, being deleted while the server runs."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest

from syndicate.tracking.store import FILE_NAME
from syndicate.web.state import TRACKER
from tests.conftest import SiteFactory
from tests.test_tracking_http import ad_links, serving
from tests.tracking_support import CHROME, stored_report, tracked_site, use_test_secrets

CLICKS = 300


@pytest.fixture(autouse=True)
def _secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    use_test_secrets(monkeypatch)


def _remove(data: Path, what: str) -> None:
    if what == "data/":
        shutil.rmtree(data)
    else:
        (data / FILE_NAME).unlink()


@pytest.mark.parametrize("what", ["the file", "data/"])
async def test_counts_after_the_store_is_deleted_go_to_a_new_one(
    make_site: SiteFactory, what: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = tracked_site(make_site)
    data = config.parent / "data"
    with caplog.at_level(logging.ERROR, logger="syndicate.tracking"):
        async with serving(config) as client:
            clicks, _ = await ad_links(client)
            tracker = client.app[TRACKER]
            assert await tracker.flush()
            assert (data / FILE_NAME).exists()
            _remove(data, what)
            for round_ in range(3):  # several flushes after the deletion: noticed once, logged once
                for _ in range(CLICKS // 3):
                    response = await client.get(clicks[0], allow_redirects=False, headers={"User-Agent": CHROME})
                    assert response.status == 302
                assert await tracker.flush(), round_
            for _ in range(5):  # still buffered at the stop: written too
                await client.get(clicks[0], allow_redirects=False, headers={"User-Agent": CHROME})
    assert (data / FILE_NAME).exists()
    totals = stored_report(data).totals
    assert totals.clicks == CLICKS + 5  # nothing after the deletion is lost (the first fetch went with the file)
    assert caplog.text.count("was deleted or replaced") == 1
