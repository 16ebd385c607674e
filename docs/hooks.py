"""MkDocs hook: pages that show a file kept outside docs/ (benchmarks/README.md, CHANGELOG.md).

A page holding the line ``<!-- include: PATH -->`` (PATH relative to the repository root) gets
the file's text in its place at build time, so the site always shows the file as committed and
nothing is copied by hand. Relative links in the included text point into the repository, not
into the site: they are rendered as the path in code, so ``mkdocs build --strict`` does not
report them as broken.
"""

import re
from pathlib import Path

INCLUDE = re.compile(r"^<!-- include: (\S+) -->$", re.MULTILINE)
# [text](target) and ![alt](target) whose target is not a URL or an anchor
RELATIVE_LINK = re.compile(r"(!?)\[([^\]]*)\]\((?![a-z][a-z0-9+.-]*:|#)([^)\s]+)\)")


def _root(config) -> Path:
    return Path(config["config_file_path"]).resolve().parent


def _repository_path(match: re.Match, folder: str) -> str:
    bang, text, target = match.groups()
    path = f"{folder}/{target}" if folder else target
    if bang or not text or text.strip("`") == target:
        return f"`{path}`"
    return f"{text} (`{path}`)"


def on_page_markdown(markdown, page, config, files):  # noqa: D103
    def include(match: re.Match) -> str:
        relative = match.group(1)
        path = _root(config) / relative
        if not path.is_file():
            raise FileNotFoundError(f"{page.file.src_path} includes {relative}, which does not exist")
        folder = Path(relative).parent.as_posix()
        folder = "" if folder == "." else folder
        text = path.read_text(encoding="utf-8")
        return RELATIVE_LINK.sub(lambda m: _repository_path(m, folder), text)

    return INCLUDE.sub(include, markdown)


def on_serve(server, config, builder):  # noqa: D103
    for name in ("benchmarks/README.md", "CHANGELOG.md"):
        server.watch(str(_root(config) / name))
    return server
