"""Every document under docs/ is reachable from the README, so a reader who starts there finds it."""
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_every_doc_is_linked_from_the_readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        links = set(re.findall(r"\]\((docs/[^)#\s]+)", f.read()))
    docs = {"docs/" + name for name in os.listdir(os.path.join(ROOT, "docs")) if name.endswith(".md")}
    assert docs - links == set(), "documents not linked from README.md"
