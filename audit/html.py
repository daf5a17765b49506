"""The report as one self-contained HTML page for a reader who is not an engineer: the verdict
first, then each check in plain words with its figure, interval and limit. No scripts, no external
assets; charts are inline SVG."""

from __future__ import annotations

from html import escape

STATUS_WORDS = {
    "passed": ("Passed", "#1a7f37"),
    "failed": ("Failed", "#cf222e"),
    "error": ("Could not run", "#cf222e"),
    "missing": ("Missing", "#cf222e"),
    "skipped": ("Skipped", "#9a6700"),
    "not_applicable": ("Not applicable", "#57606a"),
}
SERIES_COLOURS = ("#0969da", "#bc4c00", "#8250df")
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1f2328;line-height:1.5}
h1{font-size:1.6rem;margin-bottom:.2rem}.muted{color:#57606a;font-size:.9rem}
.verdict{border-radius:8px;padding:1rem 1.4rem;margin:1.2rem 0;color:#fff}
.verdict h2{margin:.1rem 0 .4rem;font-size:1.5rem}.pass{background:#1a7f37}.quarantine{background:#cf222e}
table{border-collapse:collapse;width:100%;margin:.6rem 0}td,th{border-bottom:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top}
.badge{display:inline-block;border-radius:1rem;padding:0 .6rem;color:#fff;font-size:.85rem;white-space:nowrap}
section{border:1px solid #d0d7de;border-radius:8px;padding:.6rem 1.2rem;margin:1rem 0}
section h3{margin:.4rem 0}.method{color:#57606a;font-size:.85rem}code{font-size:.85rem}
"""


def render(report: dict) -> str:
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width,initial-scale=1'>",
        f"<title>Airlock audit — {escape(report['verdict'])}</title><style>{CSS}</style></head><body>",
        "<h1>Airlock audit report</h1>",
        f"<p class='muted'>Report {escape(report['report_id'])} · {escape(report['created_at'])} · "
        f"schema {escape(report['schema'])} v{report['schema_version']}</p>",
        _verdict(report),
        _overview(report["checks"], report["policy"].get("confidence", 0.95)),
        *(_section(check) for check in report["checks"]),
        _inputs(report["inputs"]),
        _generation(report.get("generation")),
        _provenance(report),
        "<p class='muted'>This page is a rendering of <code>report.json</code>. The JSON file is signed "
        "(Ed25519); check it with <code>airlock report verify report.json</code>.</p>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _verdict(report: dict) -> str:
    if report["verdict"] == "pass":
        head, text = "Release allowed", "Every check the policy asks for ran and passed."
    else:
        head, text = "Quarantined", "The synthetic data may not leave. The reasons:"
    reasons = "".join(f"<li>{escape(r)}</li>" for r in report["reasons"])
    notes = "".join(f"<li>{escape(n)}</li>" for n in report.get("notes", []))
    return (
        f"<div class='verdict {escape(report['verdict'])}'><h2>{head}</h2><p>{text}</p>"
        + (f"<ul>{reasons}</ul>" if reasons else "")
        + "</div>"
        + (f"<p class='muted'>Notes:</p><ul class='muted'>{notes}</ul>" if notes else "")
    )


def _badge(status: str) -> str:
    words, colour = STATUS_WORDS.get(status, (status, "#57606a"))
    return f"<span class='badge' style='background:{colour}'>{escape(words)}</span>"


def _number(value) -> str:
    return "—" if value is None else f"{value:.3g}"


def _overview(checks: list[dict], confidence: float) -> str:
    rows = "".join(
        f"<tr><td>{escape(c['title'])}{' (required)' if c['required'] else ''}</td><td>{_badge(c['status'])}</td>"
        f"<td>{_number(c.get('figure'))}</td>"
        f"<td>{_interval(c)}</td><td>{_number(c.get('threshold'))}</td></tr>"
        for c in checks
    )
    return (f"<table><tr><th>Check</th><th>Result</th><th>Figure</th><th>{confidence:.0%} interval</th>"
            f"<th>Limit</th></tr>{rows}</table>")


def _interval(check: dict) -> str:
    ci = check.get("ci")
    return f"{_number(ci[0])} – {_number(ci[1])}" if ci else "—"


def _section(check: dict) -> str:
    body = [f"<section id='{escape(check['name'])}'><h3>{escape(check['title'])} {_badge(check['status'])}</h3>"]
    if check.get("summary"):
        body.append(f"<p>{escape(check['summary'])}</p>")
        body.append(_gauge(check["figure"], check["ci"], check["threshold"]))
    if check.get("reason"):
        body.append(f"<p>{escape(check['reason'])}</p>")
    details = check.get("details") or {}
    if details.get("chart"):
        body.append(_histogram(details["chart"]))
    if details.get("components"):
        body.append(_components(details["components"]))
    facts = {k: v for k, v in details.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
    if facts:
        body.append("<table>" + "".join(
            f"<tr><td>{escape(k.replace('_', ' '))}</td><td>{escape(_number(v) if isinstance(v, float) else str(v))}</td></tr>"
            for k, v in facts.items()) + "</table>")
    listed = {k: v for k, v in details.items() if k not in ("chart", "components") and isinstance(v, (list, dict)) and v}
    if listed:
        body.append("<details><summary>Record ids, fields and counts</summary><pre>"
                    + escape("\n".join(f"{k}: {v}" for k, v in listed.items())) + "</pre></details>")
    if check.get("method"):
        body.append(f"<p class='method'>Method: {escape(check['method'])} Check <code>{escape(check['name'])}</code>"
                    f", {check.get('seconds', 0):.1f} s.</p>")
    body.append("</section>")
    return "".join(body)


def _components(components: dict) -> str:
    """One row per utility component: figure, interval as a bar, the policy's floor or ceiling."""
    rows = []
    for name, c in components.items():
        if not isinstance(c, dict) or "figure" not in c:
            continue
        low, high = min(0.0, c["ci"][0], c["threshold"]), max(1.0, c["ci"][1], c["threshold"])

        def x(value: float, low=low, high=high) -> float:
            return 4 + 192 * (value - low) / ((high - low) or 1)

        bar = (f"<svg role='img' aria-label='{escape(name)} {c['figure']:.3g}' width='200' height='18' viewBox='0 0 200 18'>"
               f"<rect x='4' y='7' width='192' height='4' fill='#eaeef2'/>"
               f"<rect x='{x(c['ci'][0]):.1f}' y='5' width='{max(x(c['ci'][1]) - x(c['ci'][0]), 2):.1f}' height='8' "
               f"fill='#0969da' opacity='.35'/><circle cx='{x(c['figure']):.1f}' cy='9' r='4' fill='#0969da'/>"
               f"<line x1='{x(c['threshold']):.1f}' x2='{x(c['threshold']):.1f}' y1='1' y2='17' stroke='#cf222e'/></svg>")
        limit = ("≥ " if c["direction"] == "min" else "≤ ") + _number(c["threshold"])
        verdict = ("meets" if c["passed"] else "misses") + (" (enforced)" if c.get("enforced") else "")
        rows.append(f"<tr><td>{escape(name.replace('_', ' '))}</td><td>{_number(c['figure'])}</td>"
                    f"<td>{_number(c['ci'][0])} – {_number(c['ci'][1])}</td><td>{bar}</td><td>{escape(limit)}</td>"
                    f"<td>{verdict}</td></tr>")
    return ("<table><tr><th>Component</th><th>Figure</th><th>95% interval</th><th></th><th>Policy</th><th></th></tr>"
            + "".join(rows) + "</table>")


def _gauge(figure: float, ci: list[float], threshold: float) -> str:
    """Figure as a dot with its interval as a bar, against the limit as a red line; safer to the left."""
    top = max(1.0, figure, ci[1], threshold)
    width, height, pad = 520, 46, 10

    def x(value: float) -> float:
        return pad + (width - 2 * pad) * max(0.0, value) / top

    return (
        f"<svg role='img' aria-label='figure {figure:.3g}, interval {ci[0]:.3g} to {ci[1]:.3g}, limit {threshold:.3g}' "
        f"width='{width}' height='{height}' viewBox='0 0 {width} {height}'>"
        f"<rect x='{pad}' y='16' width='{width - 2 * pad}' height='8' fill='#eaeef2' rx='4'/>"
        f"<rect x='{x(0):.1f}' y='16' width='{x(threshold) - x(0):.1f}' height='8' fill='#dafbe1' rx='4'/>"
        f"<rect x='{x(ci[0]):.1f}' y='14' width='{max(x(ci[1]) - x(ci[0]), 2):.1f}' height='12' fill='#0969da' opacity='.35'/>"
        f"<circle cx='{x(figure):.1f}' cy='20' r='5' fill='#0969da'/>"
        f"<line x1='{x(threshold):.1f}' x2='{x(threshold):.1f}' y1='8' y2='32' stroke='#cf222e' stroke-width='2'/>"
        f"<text x='{x(threshold):.1f}' y='44' font-size='11' text-anchor='middle' fill='#cf222e'>limit {threshold:.3g}</text>"
        f"<text x='{pad}' y='44' font-size='11' fill='#57606a'>0 · safer</text>"
        f"<text x='{width - pad}' y='44' font-size='11' text-anchor='end' fill='#57606a'>{top:.3g}</text></svg>"
    )


def _histogram(chart: dict) -> str:
    edges, series = chart["edges"], chart["series"]
    bins = len(edges) - 1
    if bins < 1 or not series:
        return ""
    width, height, left, bottom, top_pad = 520, 180, 36, 28, 24
    peak = max((max(v) for v in series.values() if v), default=0) or 1
    group = (width - left - 8) / bins
    bar = group / len(series)
    shapes = []
    for s, (name, values) in enumerate(series.items()):
        colour = SERIES_COLOURS[s % len(SERIES_COLOURS)]
        for b, value in enumerate(values):
            h = (height - bottom - top_pad) * value / peak
            shapes.append(f"<rect x='{left + b * group + s * bar:.1f}' y='{height - bottom - h:.1f}' "
                          f"width='{max(bar - 1, 1):.1f}' height='{h:.1f}' fill='{colour}' opacity='.8'/>")
        shapes.append(f"<rect x='{left + 160 * s}' y='4' width='10' height='10' fill='{colour}'/>"
                      f"<text x='{left + 14 + 160 * s}' y='13' font-size='11'>{escape(name)}</text>")
    axis = (f"<line x1='{left}' x2='{width - 8}' y1='{height - bottom}' y2='{height - bottom}' stroke='#57606a'/>"
            f"<text x='{left}' y='{height - 12}' font-size='11'>{edges[0]:.3g}</text>"
            f"<text x='{width - 8}' y='{height - 12}' font-size='11' text-anchor='end'>{edges[-1]:.3g}</text>"
            f"<text x='{(left + width) / 2:.0f}' y='{height - 2}' font-size='11' text-anchor='middle'>"
            f"{escape(chart.get('x_label', ''))}</text>")
    return (f"<figure><svg role='img' aria-label='{escape(chart.get('title', 'chart'))}' width='{width}' "
            f"height='{height}' viewBox='0 0 {width} {height}'>{''.join(shapes)}{axis}</svg>"
            f"<figcaption class='muted'>{escape(chart.get('title', ''))}</figcaption></figure>")


def _inputs(inputs: dict) -> str:
    rows = "".join(
        f"<tr><td>{escape(split)}</td><td>{inputs[split]['records']}</td><td><code>{escape(inputs[split]['sha256'][:16])}…</code></td></tr>"
        for split in ("synthetic", "train", "holdout")
    )
    extra = (f"Text fields: {escape(', '.join(inputs.get('text_fields') or []))}; label field: "
             f"{escape(str(inputs.get('label_field')))}; embedder: {escape(str(inputs.get('embedder')))}; "
             f"manifest findings: {escape(str(inputs.get('manifest_findings')))}.")
    return ("<section><h3>What was audited</h3><table><tr><th>Records</th><th>Count</th><th>SHA-256</th></tr>"
            f"{rows}</table><p class='muted'>{extra}</p></section>")


def _generation(generation: dict | None) -> str:
    """How the synthetic records were made: requests met, attempts spent, why drafts were rejected."""
    if not generation:
        return ""
    rejected = ", ".join(f"{escape(str(k))} {v}" for k, v in generation.get("rejected", {}).items()) or "none"
    repaired = ", ".join(f"{escape(str(k))} {v}" for k, v in generation.get("repaired", {}).items()) or "none"
    rows = [("Mode, model", f"{escape(str(generation.get('mode')))}, {escape(str(generation.get('model')))}"),
            ("Records requested → delivered", f"{generation.get('requested')} → {generation.get('delivered')}"),
            ("Attempts (budget)", f"{generation.get('attempts')} ({generation.get('attempt_budget')})"),
            ("Drafts rejected", f"{generation.get('rejection_rate', 0):.0%} of attempts: {rejected}"),
            ("Drafts repaired instead", repaired)]
    if candidates := generation.get("candidates"):
        rows.append(("Candidates per record", f"{candidates.get('per_record')} ({candidates.get('written')} written, "
                                               f"{candidates.get('relabelled', 0)} relabelled by the label judge; per label, "
                                               "the ones it read most surely as that label were kept)"))
    body = "".join(f"<tr><td>{name}</td><td>{value}</td></tr>" for name, value in rows)
    return f"<section><h3>How the synthetic records were made</h3><table>{body}</table></section>"


def _provenance(report: dict) -> str:
    """The keys that made the data and signed the report (public key ids only), and the audit-log
    entry the report was issued at, which `airlock log verify --checkpoint report.json` holds the log to."""
    keys = report.get("keys") or {}
    head = report.get("log_head")
    if not keys and not head:
        return ""
    rows = "".join(f"<tr><td>{escape(name)} key</td><td><code>{escape(str(key_id))}</code></td></tr>"
                   for name, key_id in sorted(keys.items()))
    if head:
        rows += (f"<tr><td>audit log entry</td><td>{escape(str(head.get('seq')))} "
                 f"(<code>{escape(str(head.get('hash'))[:16])}…</code>)</td></tr>")
    return f"<section><h3>Keys and audit log</h3><table>{rows}</table></section>"
