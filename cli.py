"""chipgate command line: parse arguments, call the library, print, set the exit code.

Exit codes (contract): 0 may proceed, 3 licence required, 4 prohibited, 5 hold,
2 bad input or usage, 1 internal error.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path

import click

# What `chipgate check` needs; each other command imports what it alone uses (batches, the audit
# trail, memos, rule authoring, the service), so that a check process starts without them.
from controls import Decision, Determination, Engine, Transaction
from controls.engine.chain import chains
from controls.engine.engine import DEFAULT_RULES, default_list_store
from controls.errors import ChipgateError, InputError
from controls.lists.store import ListStore
from controls.orders import MAX_FILE_BYTES, read_orders
from controls.report import EXIT_CODES, render, render_screening
from controls.rulebook.schema import JURISDICTIONS
from controls.rulebook.yamlsource import brief
from controls.words import Glossary


class _Date(click.ParamType):
    name = "date"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD)", param, ctx)


class _Number(click.ParamType):
    """A number read exactly from its text; the model checks its range (and refuses inf and nan)."""

    name = "number"

    def convert(self, value, param, ctx):
        try:
            return value if isinstance(value, Decimal) else Decimal(str(value).strip())
        except InvalidOperation:
            self.fail(f"{value!r} is not a number", param, ctx)


DATE = _Date()
NUMBER = _Number()
RULES = click.option("--rules", "rules_dir", type=click.Path(path_type=Path), default=None,
                     help="rule directory, or a bundle file written by 'chipgate rules build' (default: the "
                          "bundled rules)")
PACK = click.argument("directory", required=False, type=click.Path(path_type=Path))  # a rule directory or bundle
LISTS = click.option("--lists", "lists_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                     help="list store to screen parties against (default: $CHIPGATE_LISTS or RULES/lists)")
FORMAT = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
AUDIT_PATH = click.option("--audit", "audit_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                          help="audit database recording every determination (default: $CHIPGATE_AUDIT, else "
                               "chipgate/audit.sqlite in $XDG_DATA_HOME or ~/.local/share)")
NO_AUDIT = click.option("--no-audit", is_flag=True, help="record nothing in the audit trail")


def _fail(exc: BaseException) -> None:
    code = exc.exit_code if isinstance(exc, ChipgateError) else 1
    prefix = "error" if code == 2 else "internal error"
    # every problem on its own line, none of them unbounded (a message may quote the input)
    message = "\n".join(brief(line, 1000) for line in str(exc).splitlines()[:1000])
    click.echo(f"{prefix}: {message}", err=True)
    sys.exit(code)


EXIT_CODES_HELP = """\b
Exit codes:
  0  NOT_SUBJECT, NLR or LICENSE_EXCEPTION: the order may proceed
  3  LICENSE_REQUIRED
  4  PROHIBITED
  5  HOLD: a possible list match, a red flag, or data missing
  2  bad input or usage (the message on stderr names the field)
  1  internal error"""


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, epilog=EXIT_CODES_HELP)
@click.version_option(package_name="chipgate")
def main() -> None:
    """Check semiconductor orders against export-control rules."""


def _judge(file: str, as_of, rules_dir: Path | None, lists_dir: Path | None, jurisdiction: str | None = None):
    """Read FILE and check every order in it: (engine, orders, determinations, whether FILE is a batch);
    with ``jurisdiction``, each determination as that jurisdiction sees it."""
    try:
        text = sys.stdin.read(MAX_FILE_BYTES + 1) if file == "-" else None  # read_orders refuses more
        if text is None and not Path(file).exists():
            raise InputError(f"{file}: no such file")
        orders, batch = read_orders(file if file != "-" else "<stdin>", text)
        engine = Engine.load(rules_dir, lists_dir)
        results = [engine.check(order, as_of=as_of) for order in orders]
        if jurisdiction:
            results = [r.only(jurisdiction) for r in results]
    except Exception as exc:  # noqa: BLE001 - every failure becomes a message and an exit code
        _fail(exc)
    return engine, orders, results, batch


def _exit(results) -> None:
    sys.exit(EXIT_CODES[Decision.most_restrictive([r.decision for r in results])])


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@FORMAT
@click.option("--as-of", type=DATE, default=None, help="judge by the rules in force on this date")
@click.option("--explain", is_flag=True, help="show every derived fact and reason")
@click.option("--jurisdiction", type=click.Choice(JURISDICTIONS), default=None,
              help="report only this jurisdiction's decision and findings (and exit by it)")
@click.option("--batch", "batch_file", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="stream the orders of this .jsonl, .json, .csv or .yaml file ('-': JSON lines on stdin) "
                   "to --out, one JSON line per record, in order")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="with --batch: the results file (JSON lines), written whole or not at all")
@click.option("--workers", type=click.IntRange(1, 256), default=1, show_default=True,
              help="with --batch: worker processes, forked once the rules are loaded")
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="with --batch: run on this Dask scheduler (tcp://host:port); workers need the same rules and lists")
@AUDIT_PATH
@NO_AUDIT
@RULES
@LISTS
def check(file: str | None, fmt: str, as_of, explain: bool, rules_dir: Path | None, lists_dir: Path | None,
          jurisdiction: str | None = None, batch_file: str | None = None, out: Path | None = None,
          workers: int = 1, scheduler: str | None = None, audit_path: Path | None = None,
          no_audit: bool = False) -> None:
    """Check an order, or a batch of orders (a YAML/JSON list), in FILE ('-' for stdin).

    For large batches use --batch ORDERS --out RESULTS.jsonl: constant memory, one result (the JSON
    of --format json) or error per record, a summary on stderr.
    """
    if batch_file is not None:
        from controls.audit import default_audit_path

        if explain or jurisdiction:
            _fail(InputError("--explain and --jurisdiction are for reports; a batch's results carry every finding"))
        _check_batch(file, batch_file, out, workers, scheduler, as_of, rules_dir, lists_dir,
                     None if no_audit else audit_path or default_audit_path())
    if file is None:
        _fail(InputError("give an order FILE, or --batch ORDERS --out RESULTS.jsonl"))
    if out is not None or workers != 1 or scheduler or audit_path or no_audit:
        _fail(InputError("--out, --workers, --scheduler, --audit and --no-audit go with --batch"))
    engine, orders, results, batch = _judge(file, as_of, rules_dir, lists_dir, jurisdiction)
    if fmt == "json":
        payload = [r.model_dump(mode="json") for r in results]
        click.echo(json.dumps(payload if batch else payload[0], indent=2, ensure_ascii=False))
    else:
        glossary, colour = Glossary.of(engine), sys.stdout.isatty()
        reports = [render(r, explain, order, glossary, colour, chains(engine, order, r) if explain else None)
                   for r, order in zip(results, orders)]
        click.echo("\n\n".join(reports), color=colour)
    _exit(results)


def _check_batch(file, batch_file: str, out: Path | None, workers: int, scheduler: str | None, as_of,
                 rules_dir: Path | None, lists_dir: Path | None, audit_path: Path | None) -> None:
    """Stream a batch to ``out``, recording its determinations in ``audit_path`` (None: nowhere); the summary
    on stderr; exit with the most restrictive decision, 2 if any record was invalid."""
    from tqdm import tqdm

    from controls.audit import AuditLog
    from controls.batch import run_batch

    if file is not None or out is None:
        _fail(InputError("--batch ORDERS needs --out RESULTS.jsonl and no FILE"))
    if scheduler and workers != 1:
        _fail(InputError("--workers is for a local run; a Dask cluster has its own workers"))
    try:
        if batch_file != "-" and not Path(batch_file).is_file():
            raise InputError(f"{brief(batch_file, 500)}: no such file")
        engine = Engine.load(rules_dir, lists_dir)
        audit_log = AuditLog(audit_path) if audit_path else None
        size = Path(batch_file).stat().st_size if batch_file != "-" else None
        with tqdm(total=size, unit="B", unit_scale=True, file=sys.stderr, disable=not sys.stderr.isatty(),
                  desc="checking") as bar:
            done = [0]

            def progress(records: int, read: int) -> None:  # the bar counts bytes (rate, ETA); orders beside it
                done[0] += records
                bar.update(read)
                bar.set_postfix_str(f"{done[0]:,} orders, {done[0] / max(bar.format_dict['elapsed'], 1e-3):,.0f}/s",
                                    refresh=False)
            summary = run_batch(engine, batch_file, out, as_of=as_of, workers=workers, scheduler=scheduler,
                                progress=progress, audit_log=audit_log)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    recorded = f"; recorded in the audit trail {audit_path}" if audit_path else ""
    click.echo(f"{summary.render()}; results in {out}{recorded}", err=True)
    sys.exit(summary.exit_code)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--format", "fmt", type=click.Choice(["text", "md", "html"]), default="text", show_default=True,
              help="text: the report with every rule and fact; md or html: a licence-determination memo to file "
                   "(the HTML is self-contained and prints from a browser)")
@click.option("--as-of", type=DATE, default=None)
@RULES
@LISTS
@click.pass_context
def explain(ctx: click.Context, file: str, fmt: str, as_of, rules_dir: Path | None, lists_dir: Path | None) -> None:
    """Explain the decision on FILE: every rule, fact and threshold behind it."""
    if fmt == "text":
        ctx.invoke(check, file=file, fmt="text", as_of=as_of, explain=True, rules_dir=rules_dir,
                   lists_dir=lists_dir)
        return
    from controls import memo

    engine, orders, results, _ = _judge(file, as_of, rules_dir, lists_dir)
    memos = [memo.Memo(order, r, chains(engine, order, r)) for order, r in zip(orders, results)]
    write = memo.markdown if fmt == "md" else memo.html_document
    click.echo(write(memos, Glossary.of(engine)), nl=False)
    _exit(results)


@main.command(epilog=EXIT_CODES_HELP)
@click.argument("name")
@click.option("--country", default=None, help="ISO 3166-1 alpha-2 country of the party")
@click.option("--address", default=None, help="the party's address, as supporting evidence")
@click.option("--explain", is_flag=True, help="show how each score was made: words, listed spelling, evidence")
@FORMAT
@RULES
@LISTS
def screen(name: str, country, address, explain: bool, fmt: str, rules_dir, lists_dir) -> None:
    """Screen NAME against the imported restricted-party lists."""
    try:
        result = Engine.load(rules_dir, lists_dir).screen(name, country=country, address=address, explain=explain)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        click.echo(render_screening(result))
    sys.exit(EXIT_CODES[result.decision])


@main.group()
def lists() -> None:
    """Import the published restricted-party lists into a local list store."""


@lists.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--store", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="list store directory (default: $CHIPGATE_LISTS or the rules' lists folder)")
@click.option("--allow-shrink", "allow_shrink", multiple=True, metavar="LIST",
              help="accept that LIST (a key such as 'ecfr:Entity List', or a list name) loses more than "
                   "--max-loss of its entries, or ends more than that below its baseline; repeatable")
@click.option("--allow-drop", "allow_drop", multiple=True, metavar="LIST",
              help="accept that FILE no longer has LIST, which is then removed from the store; repeatable")
@click.option("--allow-empty", "allow_empty", multiple=True, metavar="LIST",
              help="accept that LIST has no entries in FILE (refused otherwise: an empty list is no edition); "
                   "repeatable")
@click.option("--force", is_flag=True,
              help="override every guard for every list (prefer --allow-shrink/--allow-drop/--allow-empty)")
@click.option("--max-loss", type=click.FloatRange(0, 1), default=0.10, show_default=True,
              help="largest share of a list's entries an import may remove, or leave it below its baseline")
@click.option("--edition", type=DATE, default=None,
              help="the edition date of a file that does not state its own (e.g. the day it was fetched)")
def lists_import(file: Path, store: Path, allow_shrink: tuple[str, ...], allow_drop: tuple[str, ...],
                 allow_empty: tuple[str, ...], force: bool, max_loss: float, edition) -> None:
    """Import FILE (eCFR XML of 15 CFR part 744, or ITA's consolidated CSV) and show what changed."""
    try:
        report = ListStore(store or default_list_store()).import_file(
            file, force=force, allow_shrink=allow_shrink, allow_drop=allow_drop, allow_empty=allow_empty,
            max_loss=max_loss, edition=edition)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    click.echo(report.render())


@lists.command("status")
@click.option("-o", "--store", type=click.Path(file_okay=False, path_type=Path), default=None)
def lists_status(store: Path | None) -> None:
    """Show which lists are imported, from which file and edition, and verify each against its digest.

    Exit 0 when every list verifies, 5 when none is imported (parties are HOLD), 2 when the
    store is broken (parties are HOLD until the damaged lists are re-imported).
    """
    store = store or default_list_store()
    try:
        list_store = ListStore(store)
        manifest = list_store.manifest().lists
        problems = list_store.verify()
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    if not manifest:
        click.echo(f"no lists imported in {store}; parties will be HOLD until you run: chipgate lists import FILE")
        sys.exit(5)
    for key, info in sorted(manifest.items()):
        click.echo(f"{key}: {info.entries} entries from {info.source_file} "
                   f"(edition {info.edition or 'unknown'}, imported {info.imported_at}) "
                   f"sha256:{info.content_sha256}")
        if key in problems:
            click.echo(f"  BROKEN: {problems[key]}")
        elif not info.entries and not info.accepted_empty:
            click.echo("  NOT SCREENED: it has no entries and no import accepted it as empty (--allow-empty); "
                       "import an edition of it")
    if problems:
        click.echo(f"error: the list store {store} is broken ({len(problems)} of {len(manifest)} lists fail "
                   "verification); parties are HOLD until those lists are re-imported", err=True)
        sys.exit(2)
    click.echo(f"ok: {len(manifest)} lists verified against their digests")


@main.command()
@click.option("--tpp", type=NUMBER, help="total processing performance")
@click.option("--die-area", type=NUMBER, help="applicable die area, mm2")
@click.option("--density", type=NUMBER, help="performance density, if known directly")
@click.option("--datacenter/--not-datacenter", default=None, help="designed or marketed for datacenters")
@click.option("--mbd", type=NUMBER, help="memory bandwidth density, GB/s per mm2 (HBM)")
@click.option("--io", "io_rate", type=NUMBER, help="aggregate I/O bandwidth, GB/s (2022 test)")
@click.option("--date", "on", type=DATE, default=None, help="classify by the rules of this date (default today)")
@FORMAT
@RULES
@click.pass_context
def classify(ctx: click.Context, tpp, die_area, density, datacenter, mbd, io_rate, on, fmt, rules_dir) -> None:
    """Classify an IC from its parameters (ECCN 3A090.a/.b/.c or outside 3A090).

    Give at least one parameter: --tpp with --die-area (or --density) and --datacenter/--not-datacenter
    for a processor, --mbd for high-bandwidth memory.
    """
    chip = {"tpp": tpp, "die_area_mm2": die_area, "performance_density": density, "datacenter": datacenter,
            "memory_bandwidth_density": mbd, "interconnect_bandwidth": io_rate}
    if all(v is None for v in chip.values()):
        raise click.UsageError("give the chip's parameters, e.g. --tpp 4800 --die-area 814 --datacenter, "
                               "or --mbd 2.5 for HBM", ctx)
    try:
        result = Engine.load(rules_dir).classify({k: v for k, v in chip.items() if v is not None}, on=on)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    if fmt == "json":
        click.echo(result.model_dump_json(indent=2))
    else:
        answer = "cannot classify: the rules conflict" if result.conflict else result.eccn or (
            "outside 3A090" if result.outside_3a090 else "cannot classify")
        click.echo(f"{answer} (as of {result.as_of})")
        for d in result.derived:
            click.echo(f"  rule {d.rule} - {d.citation}" + (f": derives {d.facts}" if result.conflict else ""))
            click.echo("\n".join(f"    because {r}" for r in d.because))
        if result.conflict:
            click.echo("  these rules classify the chip differently: fix the rule pack")
        if result.missing:
            click.echo(f"  {result.missing}")
    sys.exit(EXIT_CODES[Decision.HOLD] if result.conflict else 0)  # conflicting rules: HOLD, as in a check


@main.group()
def rules() -> None:
    """Author rule packs: validate them, run their test cases, see what a change does."""


@rules.command("validate")
@PACK
def rules_validate(directory: Path | None) -> None:
    """Validate every rule file in DIRECTORY (default: the bundled rules), or a bundle file; report every problem."""
    try:
        engine = Engine.load(directory)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    book = engine.rulebook
    click.echo(f"ok: {len(book.rules)} rules, {len(book.sets)} sets, {len(book.cases)} cases; "
               f"{book.meta.name} {book.meta.version} {book.digest}")


@rules.command("build")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the bundle file to write")
def rules_build(directory: Path, output: Path) -> None:
    """Validate and compile the rule pack in DIRECTORY into one bundle file, which --rules reads faster
    than the YAML; its header names the bundle's version and digest, and each source file's digest."""
    if not output.parent.is_dir():
        raise click.BadParameter(f"{output.parent} is not a directory", param_hint="'-o' / '--output'")
    try:
        from controls.rulebook import bundle

        header = bundle.build(directory, output)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    click.echo(f"wrote {output}: {header['name']} {header['version']} {header['digest']} "
               f"({len(header['sources'])} source files)")


@rules.command("lint")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@FORMAT
def rules_lint(directory: Path | None, fmt: str) -> None:
    """Every problem of the rule pack in DIRECTORY, errors and warnings, each with a stable code;
    exit 2 if there is an error."""
    try:
        from controls.rulebook import lint

        problems = lint.lint(directory or DEFAULT_RULES)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    if fmt == "json":
        click.echo(json.dumps(lint.as_json(problems), indent=2, ensure_ascii=False))
    else:
        click.echo(lint.render(problems))
    sys.exit(2 if any(p.severity == "error" for p in problems) else 0)


@rules.command("schema")
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="write the schema here (default: print it)")
def rules_schema(directory: Path | None, output: Path | None) -> None:
    """A JSON Schema of rule files, from the fact catalogue and the sets and named conditions of the
    pack in DIRECTORY; start a rule file with '# yaml-language-server: $schema=<file>' to use it."""
    try:
        from controls.rulebook import editor_schema
        from controls.rulebook.loader import load_rulebook

        schema = editor_schema.rule_file_schema(load_rulebook(directory or DEFAULT_RULES))
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    text = json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}; add to a rule file: # yaml-language-server: $schema={output}")


@rules.command("test")
@PACK
@LISTS
def rules_test(directory: Path | None, lists_dir: Path | None) -> None:
    """Run the test cases written beside the rules; exit 1 if any fails."""
    from controls.engine import authoring

    try:
        engine = Engine.load(directory, lists_dir)
        outcomes = engine.run_cases()
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    failed = [o for o in outcomes if not o.passed]
    for outcome in outcomes:
        click.echo(f"{'PASS' if outcome.passed else 'FAIL'}  {outcome.name}" +
                   "".join(f"\n      {line}" for line in outcome.detail.splitlines() if not outcome.passed))
    click.echo(authoring.coverage(engine.rulebook, outcomes).render())
    click.echo(f"{len(outcomes) - len(failed)} passed, {len(failed)} failed")
    sys.exit(1 if failed else 0)


@rules.command("status")
@PACK
@click.option("--as-of", type=DATE, default=None, help="the day to look from (default today)")
@click.option("--days", type=click.IntRange(0, 3650), default=60, show_default=True)
def rules_status(directory: Path | None, as_of, days: int) -> None:
    """Rule windows ending within DAYS of today (or --as-of), and end dates passed whose extension is unconfirmed."""
    from controls.engine import authoring

    as_of = as_of or dt.date.today()
    try:
        horizon = as_of + dt.timedelta(days=days)
    except OverflowError:
        raise click.BadParameter(f"{as_of} and {days} days more is past {dt.date.max}", param_hint="'--as-of'") \
            from None
    try:
        engine = Engine.load(directory)
        ends = authoring.window_ends(engine, as_of, days)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    reviewed = engine.rulebook.meta.reviewed
    click.echo(f"{engine.rulebook.meta.name} {engine.rulebook.meta.version}, last reviewed "
               f"{reviewed or 'on no stated date'}; windows ending by {horizon} "
               f"or ended unconfirmed, as of {as_of}:")
    for e in ends:
        state = ("ENDED, extension unconfirmed" if e.until <= as_of else "ends, extension unconfirmed") \
            if not e.confirmed else "ends"
        click.echo(f"  {e.until}  {state}: {e.rule} ({e.jurisdiction}, {e.window})"
                   + (f"\n      {' '.join(e.reason.split())}" if e.reason else ""))
    if not ends:
        click.echo("  none")


@rules.command("impact")
@click.argument("orders", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--baseline", type=click.Path(exists=True, path_type=Path), default=None,
              help="the rules in force today, a directory or a bundle (default: --rules, to compare two dates)")
@RULES
@click.option("--as-of", type=DATE, default=None,
              help="check the orders as of this date (default: each order's date); with --vs, the date before")
@click.option("--vs", type=DATE, default=None, help="the date after: compare the rules on --as-of with them on --vs")
@click.option("--lists", "lists_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="screen parties against this list store (default: parties match no list, so that no local "
                   "store sways the comparison)")
@FORMAT
def rules_impact(orders: Path, baseline: Path | None, rules_dir: Path | None, as_of, vs, lists_dir: Path | None,
                 fmt: str) -> None:
    """What a rule change does to past ORDERS: two rule packs or bundles (--baseline OLD --rules NEW), or
    one on two dates (--rules NEW --as-of A --vs B); each order whose decision or the rules behind it
    change, then the changes grouped by the rule that made the difference."""
    from controls.engine import authoring

    if baseline is None and vs is None:
        _fail(InputError("compare two rule packs (--baseline OLD --rules NEW) or two dates (--as-of A --vs B)"))
    try:
        batch, _ = read_orders(orders)
        lists = lists_dir or authoring.NO_LIST_STORE
        candidate = Engine.load(rules_dir, lists)
        engines = [candidate if baseline is None else Engine.load(baseline, lists), candidate]
        if lists_dir is None:
            engines = [authoring.unscreened(e) for e in engines]
        changes = authoring.impact(*engines, batch, before=as_of, after=vs or as_of)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    grouped = authoring.by_rule(changes)
    if fmt == "json":
        click.echo(json.dumps({"orders": len(batch), "changes": [c.model_dump() for c in changes],
                               "by_rule": [g.model_dump() for g in grouped]}, indent=2))
        return
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for c in changes:
        click.echo(f"{c.transaction_id}: {c.before} -> {c.after}" + "".join(
            f"\n    {marks[kind]} {r}" for kind in marks for r in getattr(c, f"rules_{kind}")))
    if grouped:
        click.echo("by rule (+ found only after, - only before, ~ with another effect):")
    for g in grouped:
        click.echo(f"  {marks[g.change]} {g.rule}: {g.orders} order{'s' * (g.orders != 1)} (e.g. {g.example}); "
                   + ", ".join(f"{d} ({n})" for d, n in g.decisions.items()))
    click.echo(f"{len(changes)} of {len(batch)} orders change")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to listen on")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(1), default=1, show_default=True,
              help="processes, each with its own engine (checks in one process take turns on the rule network)")
@RULES
@LISTS
@AUDIT_PATH
@NO_AUDIT
@click.option("--admin-token", envvar="CHIPGATE_ADMIN_TOKEN", default=None,
              help="bearer token for /v1/admin/* (also $CHIPGATE_ADMIN_TOKEN); without one they are off")
@click.option("--max-body", type=click.IntRange(1), default=4 * 2**20, show_default=True,
              help="bytes of one request, and of one order line of a batch (413 beyond)")
@click.option("--max-batch-body", type=click.IntRange(1), default=2**30, show_default=True,
              help="bytes of one batch request")
@click.option("--threads", type=click.IntRange(1), default=4, show_default=True,
              help="batch requests (/v1/check/batch) checked at once in one process")
@click.option("--review-token", "review_tokens", multiple=True, metavar="USER=TOKEN", envvar="CHIPGATE_REVIEW_TOKENS",
              help="a reviewer of the review queue (/review) and the token they sign in with; repeatable "
                   "(also $CHIPGATE_REVIEW_TOKENS, separated by spaces)")
@click.option("--trust-user-header", default=None, metavar="HEADER",
              help="take the reviewer from this header (e.g. X-Remote-User), set by a reverse proxy that "
                   "authenticates users; only behind such a proxy")
@click.option("--access-log/--no-access-log", default=False, show_default=True,
              help="log a line per request (the audit trail records every determination either way)")
def serve(host, port, workers, rules_dir, lists_dir, audit_path, no_audit, admin_token, max_body, max_batch_body,
          threads, review_tokens, trust_user_header, access_log) -> None:
    """Serve checks over HTTP (OpenAPI at /docs and /openapi.json). SIGHUP reloads rules and lists.

    The review queue (/review) is served only with --review-token or --trust-user-header.
    """
    import secrets

    import uvicorn

    from controls.audit import default_audit_path
    from controls.service import Settings
    from controls.service.protocol import GatheringHttpToolsProtocol
    from controls.service.supervisor import Supervisor

    tokens = {}
    for given in review_tokens:
        user, _, token = given.partition("=")
        if not user.strip() or len(token) < 16:
            _fail(InputError(f"--review-token {brief(user)}=...: give USER=TOKEN, the token at least 16 characters"))
        tokens[user.strip()] = token
    if (tokens or trust_user_header) and no_audit:
        _fail(InputError("the review queue reads and writes the audit trail: drop --no-audit"))
    settings = Settings(rules=rules_dir, lists=lists_dir, audit=None if no_audit else audit_path or default_audit_path(),
                        admin_token=admin_token, max_body=max_body, max_batch_body=max_batch_body, threads=threads,
                        workers=workers, review_tokens=tokens, trust_user_header=trust_user_header,
                        review_secret=secrets.token_hex(32))
    os.environ["CHIPGATE_SERVE"] = settings.to_env()  # worker processes read their settings here
    config = uvicorn.Config("controls.service.app:app_from_env", factory=True, host=host, port=port,
                            workers=workers, timeout_graceful_shutdown=30, http=GatheringHttpToolsProtocol,
                            access_log=access_log)

    if workers == 1:
        uvicorn.Server(config).run()
    else:
        try:
            supervisor = Supervisor(config)
        except OSError as exc:  # the address is taken or not this machine's
            _fail(InputError(f"--host {brief(host)} --port {port}: {exc.strerror or exc}"))
        supervisor.run()


@main.command()
@click.option("-o", "--out", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="directory to write transaction.schema.json and determination.schema.json to")
def schema(directory: Path) -> None:
    """Write the JSON Schema of the input (a transaction) and of the output (a determination)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, model, mode in (("transaction", Transaction, "validation"), ("determination", Determination,
                                                                           "serialization")):
        document = {"$schema": "https://json-schema.org/draft/2020-12/schema", **model.model_json_schema(mode=mode)}
        path = directory / f"{name}.schema.json"
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        click.echo(path)


AUDIT = click.option("--db", "db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="audit database (default: $CHIPGATE_AUDIT or the user's data directory)")


def _audit_log(db: Path | None):
    """The trail to read, opened as it is (never created or changed): exit 2 if it is no trail."""
    from controls.audit import AuditLog, default_audit_path

    try:
        return AuditLog(db or default_audit_path(), create=False)
    except InputError as exc:
        _fail(exc)


def _reading_trail(command):
    """An audit command that reads the trail: damage found on the way (a file truncated or overwritten in
    its middle: SQLite's "database disk image is malformed") is exit 2 naming the file, not a traceback."""
    @functools.wraps(command)
    def read(*args, db=None, **kwargs):
        import sqlite3

        from controls.audit import default_audit_path
        try:
            return command(*args, db=db, **kwargs)
        except sqlite3.DatabaseError as exc:
            _fail(InputError(f"{db or default_audit_path()}: the audit database is damaged: {exc}"))
    return read


@main.group()
def audit() -> None:
    """The audit trail of determinations the service (or a batch) recorded."""


@audit.command("show")
@click.option("--decision", type=click.Choice([d.value for d in Decision]), default=None)
@click.option("--since", type=DATE, default=None, help="records made on or after this day (UTC)")
@AUDIT
@_reading_trail
def audit_show(decision, since, db) -> None:
    """One line per record: number, time, order, decision, bundle, caller; and, in time order among them,
    each reviewer's decision on a shown record (review number, time, order, decision, reviewer, reason)."""
    import heapq

    from controls.audit import REVIEW_ACTIONS
    log = _audit_log(db)
    shown: set[int] = set()

    def records():
        for r in log.records(decision, since):
            shown.add(r["seq"])
            yield r["time"], 0, r

    def reviews():
        for v in log.reviews():
            if (since is None or v["time"] >= since.isoformat()) and (decision is None or v["record"] in shown):
                yield v["time"], 1, v
    for _, kind, r in heapq.merge(records(), reviews(), key=lambda item: item[:2]):
        if kind == 0:
            click.echo(f"{r['seq']}  {r['time']}  {r['transaction_id']}  {r['decision']}  as of {r['as_of']}  "
                       f"{r['bundle_version']} {r['bundle_digest'][:19]}...  {r['caller'] or '-'}")
        else:
            allowed = len(json.loads(r["allowed"]))
            click.echo(f"review {r['seq']}  {r['time']}  {r['transaction_id']}  record {r['record']} "
                       f"{REVIEW_ACTIONS[r['action']]} by {r['reviewer']}: {brief(r['reason'], 300)}"
                       + (f" (+{allowed} allow-list)" if allowed else ""))


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["jsonl"]), default="jsonl", show_default=True)
@click.option("--decision", type=click.Choice([d.value for d in Decision]), default=None)
@click.option("--since", type=DATE, default=None)
@AUDIT
@_reading_trail
def audit_export(fmt, decision, since, db) -> None:
    """Every record as JSON Lines, the order input, findings and lists as JSON; ``lists_digest`` is the digest
    of the list snapshot the record's hash covers (null for records written before snapshots)."""
    for r in _audit_log(db).records(decision, since):
        if r["lists"] is None and r["lists_digest"]:
            click.echo(f"warning: record {r['seq']}: its list snapshot {r['lists_digest']} is missing from the "
                       f"trail (chipgate audit verify)", err=True)
        for field in ("input", "lists", "findings"):
            r[field] = json.loads(r[field]) if r[field] is not None else None
        click.echo(json.dumps(r, ensure_ascii=False))


@audit.command("order")
@click.argument("seq", type=click.IntRange(1))
@AUDIT
@_reading_trail
def audit_order(seq, db) -> None:
    """The order record SEQ answered, as JSON, to review or check again (chipgate check -)."""
    try:
        order = _audit_log(db).order(seq)
    except Exception as exc:  # noqa: BLE001
        _fail(exc)
    click.echo(order.model_dump_json(indent=2, by_alias=True))


@audit.command("verify")
@AUDIT
@_reading_trail
def audit_verify(db) -> None:
    """Check the hash chain: exit 0 if intact, 2 naming the first record that was edited, removed or moved."""
    log = _audit_log(db)
    broken = log.verify()
    if broken:
        click.echo(f"error: the audit trail {log.path} is broken at {broken}", err=True)
        sys.exit(2)
    reviews = sum(1 for _ in log.reviews())
    click.echo(f"ok: {sum(1 for _ in log.records())} records, the chain is intact"
               + (f"; {reviews} review{'s' if reviews != 1 else ''}, their chain is intact" if reviews else ""))


if __name__ == "__main__":
    main()
