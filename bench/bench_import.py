"""Times `syndicate import wordpress` on a generated export of N posts (default 10,000).

    python bench/bench_import.py [--posts N]

Prints the export size, the first import (every file new), a second import (every
file unchanged) and the Snapshot build of the imported site, each in seconds and per post.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from xml.sax.saxutils import escape

from syndicate.config import load_config
from syndicate.ingest.importer import run_import
from syndicate.snapshot import build_snapshot

HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench Site</title><link>https://bench.test</link><description>Generated</description>
<wp:wxr_version>1.2</wp:wxr_version>
<wp:author><wp:author_login>ann</wp:author_login><wp:author_display_name>Ann Åberg</wp:author_display_name></wp:author>
"""


def _item(n: int) -> str:
    paragraphs = "\n\n".join(
        f'Paragraph {p} of story {n}: “quoted” text with a <a href="/x/{p}">link</a> and more words to read.'
        for p in range(8)
    )
    body = f"{paragraphs}\n\n[bsa_pro_ad_space id=4]\n\nThe end of story {n}." if n % 2 else paragraphs
    if n % 5 == 0:
        body = f"<!-- wp:paragraph -->\n<p>Block story {n}.</p>\n<!-- /wp:paragraph -->"
    day = f"2023-{n % 12 + 1:02d}-{n % 28 + 1:02d} {n % 24:02d}:{n % 60:02d}:00"
    return f"""<item><title>Story {n}</title><link>https://bench.test/story-{n}/</link>
<dc:creator>ann</dc:creator><content:encoded><![CDATA[{body}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded><wp:post_id>{n}</wp:post_id>
<wp:post_date_gmt>{day}</wp:post_date_gmt><wp:post_modified_gmt>{day}</wp:post_modified_gmt>
<wp:post_name>story-{n}</wp:post_name><wp:status>publish</wp:status><wp:post_type>post</wp:post_type>
<category domain="category" nicename="news"><![CDATA[News]]></category>
<category domain="post_tag" nicename="t{n % 7}"><![CDATA[{escape(f"Tag {n % 7}")}]]></category></item>
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "feeds").mkdir()
        (root / "config.yaml").write_text("site:\n  title: Bench\n  base_url: https://bench.test\n")
        export = root / "export.xml"
        with export.open("w", encoding="utf-8") as out:
            out.write(HEAD)
            for n in range(1, args.posts + 1):
                out.write(_item(n))
            out.write("</channel></rss>\n")
        config = load_config(root / "config.yaml")
        print(f"export: {args.posts} posts, {export.stat().st_size / 1e6:.1f} MB")
        for label in ("first import", "second import"):
            begun = time.perf_counter()
            report = run_import(config, export)
            seconds = time.perf_counter() - begun
            print(f"{label}: {seconds:.2f} s ({seconds / args.posts * 1e3:.3f} ms/post) {dict(report.outcomes)}")
        begun = time.perf_counter()
        snapshot = build_snapshot(root / "config.yaml")
        seconds = time.perf_counter() - begun
        print(
            f"snapshot build: {seconds:.2f} s for {snapshot.article_count} articles, "
            f"{len([p for p in snapshot.problems if p.level == 'error'])} errors"
        )


if __name__ == "__main__":
    main()
