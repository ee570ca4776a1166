"""memhp benchmarks — Python pieces the benchmark scripts share (imported with PYTHONPATH set to
host-tools/bench by the script)."""
import json
import os


def replace_section(doc, title, text):
    """Puts `title` + `text` in docs/benchmarks.md in place of the section of that title (up to
    the next "## "), or at the end; creates the file if needed."""
    section = title + "\n\n" + text
    body = open(doc).read() if os.path.exists(doc) else (
        "# memhp benchmarks\n\nNumbers from one run each; the command is given with each section.\n")
    start = body.find(title)
    if start < 0:
        body = body.rstrip("\n") + "\n\n" + section
    else:
        nxt = body.find("\n## ", start + 1)
        body = body[:start] + section + (body[nxt + 1:] if nxt >= 0 else "")
    open(doc, "w").write(body)
    print("written to", doc)


def agent_watch_lines(path):
    """The agent's lines of a `memhpctl --json watch` record, parsed; unparsable lines skipped."""
    for line in open(path):
        try:
            w = json.loads(line)
        except ValueError:
            continue
        if w.get("source") == "agent":
            yield w
